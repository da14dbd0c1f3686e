package io.specd.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise and reducing operations on host rows, vectorised with the JDK Vector API: what the
 * {@code java} backend's forward pass and every drafter's host glue share. Rows are given as an
 * array, an offset and a length; nothing here allocates.
 *
 * <p>A loop's running vector (a sum, a maximum) is the argument of the JDK's {@code add}, {@code
 * max} and the like, never their receiver ({@code e.add(sums)}, not {@code sums.add(e)}): those
 * methods dispatch on their receiver through a type profile the whole process shares, and at a loop
 * head C2 (JDK 17) has lost the running vector's exact type, so whenever that shared profile had
 * not settled when it compiled the loop, it could not inline the dispatch and the loop ran the
 * Vector API's Java fallback for good, allocating every vector (stories260K's decoding allocated 61
 * KB a step in 8 of 13 runs of the allocation tests after the padded-model tests, none of 5 after
 * this rule). A freshly loaded or computed receiver has an exact type and needs no profile. {@code
 * RunningVectorRuleTest} checks the rule on every vector kernel's source.
 */
public final class VectorMath {
  static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();

  private VectorMath() {}

  /** {@code Σ a[aOffset + i] · b[bOffset + i]} for {@code i < n}. */
  public static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
    FloatVector sum = FloatVector.zero(SPECIES);
    int i = 0;
    for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
      sum =
          FloatVector.fromArray(SPECIES, a, aOffset + i)
              .fma(FloatVector.fromArray(SPECIES, b, bOffset + i), sum);
    }
    float result = sum.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      result += a[aOffset + i] * b[bOffset + i];
    }
    return result;
  }

  /** {@code Σ x²} over a row. */
  public static float sumOfSquares(float[] x, int offset, int n) {
    return dot(x, offset, x, offset, n);
  }

  /**
   * RMSNorm: {@code out = x · (mean(x²) + eps)^-½ · gain} (gain may be null for a unit gain; out
   * may be x).
   */
  public static void rmsNorm(
      float[] x, int offset, int n, float[] gain, float eps, float[] out, int outOffset) {
    float scale = (float) (1.0 / Math.sqrt(sumOfSquares(x, offset, n) / n + eps));
    if (gain == null) {
      scale(x, offset, n, scale, out, outOffset);
      return;
    }
    int i = 0;
    for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
      FloatVector.fromArray(SPECIES, x, offset + i)
          .mul(scale)
          .mul(FloatVector.fromArray(SPECIES, gain, i))
          .intoArray(out, outOffset + i);
    }
    for (; i < n; i++) {
      out[outOffset + i] = x[offset + i] * scale * gain[i];
    }
  }

  /** {@code out = x · factor} (out may be x). */
  public static void scale(float[] x, int offset, int n, float factor, float[] out, int outOffset) {
    int i = 0;
    for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
      FloatVector.fromArray(SPECIES, x, offset + i).mul(factor).intoArray(out, outOffset + i);
    }
    for (; i < n; i++) {
      out[outOffset + i] = x[offset + i] * factor;
    }
  }

  /** {@code out = x ⊙ y} (out may be x or y). */
  public static void multiply(
      float[] x, int xOffset, float[] y, int yOffset, int n, float[] out, int outOffset) {
    int i = 0;
    for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
      FloatVector.fromArray(SPECIES, x, xOffset + i)
          .mul(FloatVector.fromArray(SPECIES, y, yOffset + i))
          .intoArray(out, outOffset + i);
    }
    for (; i < n; i++) {
      out[outOffset + i] = x[xOffset + i] * y[yOffset + i];
    }
  }

  /** {@code x += y} over a row. */
  public static void add(float[] x, int xOffset, float[] y, int yOffset, int n) {
    int i = 0;
    for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
      FloatVector.fromArray(SPECIES, x, xOffset + i)
          .add(FloatVector.fromArray(SPECIES, y, yOffset + i))
          .intoArray(x, xOffset + i);
    }
    for (; i < n; i++) {
      x[xOffset + i] += y[yOffset + i];
    }
  }

  /** {@code x += factor · y} over a row. */
  public static void addScaled(
      float[] x, int xOffset, float[] y, int yOffset, float factor, int n) {
    FloatVector factors = FloatVector.broadcast(SPECIES, factor);
    int i = 0;
    for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
      FloatVector.fromArray(SPECIES, y, yOffset + i)
          .fma(factors, FloatVector.fromArray(SPECIES, x, xOffset + i))
          .intoArray(x, xOffset + i);
    }
    for (; i < n; i++) {
      x[xOffset + i] += factor * y[yOffset + i];
    }
  }

  /** {@code x = SiLU(x) = x · σ(x)} in place. */
  public static void silu(float[] x, int offset, int n) {
    int i = 0;
    for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
      FloatVector v = FloatVector.fromArray(SPECIES, x, offset + i);
      v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(x, offset + i);
    }
    for (; i < n; i++) {
      float v = x[offset + i];
      x[offset + i] = (float) (v / (1.0 + Math.exp(-v)));
    }
  }

  /** {@code x = x / max(‖x‖, 1e-12)} (L2-normalises a row as PyTorch's {@code normalize} does). */
  public static void normalize(float[] x, int offset, int n) {
    float norm = (float) Math.sqrt(sumOfSquares(x, offset, n));
    scale(x, offset, n, 1f / Math.max(norm, 1e-12f), x, offset);
  }

  /** The largest value of a row. */
  public static float max(float[] x, int offset, int n) {
    FloatVector maxima = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
    int i = 0;
    for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
      maxima = FloatVector.fromArray(SPECIES, x, offset + i).max(maxima);
    }
    float max = maxima.reduceLanes(VectorOperators.MAX);
    for (; i < n; i++) {
      max = Math.max(max, x[offset + i]);
    }
    return max;
  }

  /**
   * The softmax moments of a row against a shift (its maximum): {@code moments[0] = Σ e^(x −
   * shift)} and {@code moments[1] = Σ e^(x − shift)·(x − shift)}, from which a softmax's normaliser
   * and entropy follow without a per-element array.
   */
  public static void expMoments(float[] x, int offset, int n, float shift, double[] moments) {
    FloatVector shifts = FloatVector.broadcast(SPECIES, shift);
    FloatVector sums = FloatVector.zero(SPECIES);
    FloatVector weighted = FloatVector.zero(SPECIES);
    int i = 0;
    for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
      FloatVector shifted = FloatVector.fromArray(SPECIES, x, offset + i).sub(shifts);
      FloatVector e = shifted.lanewise(VectorOperators.EXP);
      sums = e.add(sums);
      weighted = e.fma(shifted, weighted);
    }
    double sum = sums.reduceLanes(VectorOperators.ADD);
    double moment = weighted.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      double shifted = x[offset + i] - shift;
      double e = Math.exp(shifted);
      sum += e;
      moment += e * shifted;
    }
    moments[0] = sum;
    moments[1] = moment;
  }
}
