package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.FLOATS;

import jdk.incubator.vector.FloatVector;

/**
 * Products of float32 weights (already decoded, usually a chunk of a row in an L1-resident scratch)
 * with one or several activation vectors. Tokens are taken four at a time, then two, then one, so
 * each weight vector loaded from the scratch is reused for up to four tokens.
 */
final class FloatDots {
  private static final int LANES = FLOATS.length();

  private FloatDots() {}

  /** {@code Σ_i w[wOffset+i]·x[xOffset+i]} over {@code count} values. */
  static float dot(float[] w, int wOffset, float[] x, int xOffset, int count) {
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    int i = 0;
    for (; i + 2 * LANES <= count; i += 2 * LANES) {
      sum0 = load(w, wOffset + i).fma(load(x, xOffset + i), sum0);
      sum1 = load(w, wOffset + i + LANES).fma(load(x, xOffset + i + LANES), sum1);
    }
    float sum = Vectors.sum(sum0.add(sum1));
    for (; i < count; i++) {
      sum += w[wOffset + i] * x[xOffset + i];
    }
    return sum;
  }

  /**
   * For each token t: {@code out[outOffset + t*outStride]} is set to (or, if {@code accumulate},
   * increased by) {@code Σ_i w[wOffset+i]·x[xOffset + t*xStride + i]}.
   */
  static void dots(
      float[] w,
      int wOffset,
      float[] x,
      int xOffset,
      int xStride,
      int tokens,
      float[] out,
      int outOffset,
      int outStride,
      int count,
      boolean accumulate) {
    int t = 0;
    for (; t + 4 <= tokens; t += 4) {
      dots4(
          w,
          wOffset,
          x,
          xOffset + t * xStride,
          xStride,
          out,
          outOffset + t * outStride,
          outStride,
          count,
          accumulate);
    }
    if (t + 2 <= tokens) {
      dots2(
          w,
          wOffset,
          x,
          xOffset + t * xStride,
          xStride,
          out,
          outOffset + t * outStride,
          outStride,
          count,
          accumulate);
      t += 2;
    }
    if (t < tokens) {
      float sum = dot(w, wOffset, x, xOffset + t * xStride, count);
      store(out, outOffset + t * outStride, sum, accumulate);
    }
  }

  private static void dots4(
      float[] w,
      int wOffset,
      float[] x,
      int x0,
      int xStride,
      float[] out,
      int outOffset,
      int outStride,
      int count,
      boolean accumulate) {
    int x1 = x0 + xStride;
    int x2 = x1 + xStride;
    int x3 = x2 + xStride;
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    FloatVector sum2 = FloatVector.zero(FLOATS);
    FloatVector sum3 = FloatVector.zero(FLOATS);
    int i = 0;
    for (; i + LANES <= count; i += LANES) {
      FloatVector weights = load(w, wOffset + i);
      sum0 = weights.fma(load(x, x0 + i), sum0);
      sum1 = weights.fma(load(x, x1 + i), sum1);
      sum2 = weights.fma(load(x, x2 + i), sum2);
      sum3 = weights.fma(load(x, x3 + i), sum3);
    }
    float total0 = Vectors.sum(sum0);
    float total1 = Vectors.sum(sum1);
    float total2 = Vectors.sum(sum2);
    float total3 = Vectors.sum(sum3);
    for (; i < count; i++) {
      float weight = w[wOffset + i];
      total0 += weight * x[x0 + i];
      total1 += weight * x[x1 + i];
      total2 += weight * x[x2 + i];
      total3 += weight * x[x3 + i];
    }
    store(out, outOffset, total0, accumulate);
    store(out, outOffset + outStride, total1, accumulate);
    store(out, outOffset + 2 * outStride, total2, accumulate);
    store(out, outOffset + 3 * outStride, total3, accumulate);
  }

  private static void dots2(
      float[] w,
      int wOffset,
      float[] x,
      int x0,
      int xStride,
      float[] out,
      int outOffset,
      int outStride,
      int count,
      boolean accumulate) {
    int x1 = x0 + xStride;
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    FloatVector sum2 = FloatVector.zero(FLOATS);
    FloatVector sum3 = FloatVector.zero(FLOATS);
    int i = 0;
    for (; i + 2 * LANES <= count; i += 2 * LANES) {
      FloatVector weights0 = load(w, wOffset + i);
      FloatVector weights1 = load(w, wOffset + i + LANES);
      sum0 = weights0.fma(load(x, x0 + i), sum0);
      sum1 = weights1.fma(load(x, x0 + i + LANES), sum1);
      sum2 = weights0.fma(load(x, x1 + i), sum2);
      sum3 = weights1.fma(load(x, x1 + i + LANES), sum3);
    }
    float total0 = Vectors.sum(sum0.add(sum1));
    float total1 = Vectors.sum(sum2.add(sum3));
    for (; i < count; i++) {
      float weight = w[wOffset + i];
      total0 += weight * x[x0 + i];
      total1 += weight * x[x1 + i];
    }
    store(out, outOffset, total0, accumulate);
    store(out, outOffset + outStride, total1, accumulate);
  }

  private static FloatVector load(float[] values, int offset) {
    return FloatVector.fromArray(FLOATS, values, offset);
  }

  private static void store(float[] out, int index, float value, boolean accumulate) {
    out[index] = accumulate ? out[index] + value : value;
  }
}
