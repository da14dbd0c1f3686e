package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/** Q8_0 rows: blocks of an f16 scale and 32 int8 quants, widened 16 at a time. */
final class Q8_0RowKernel extends TokenGroupRowKernel {
  private static final int BLOCK_BYTES = 34;

  @Override
  public GgmlType type() {
    return GgmlType.Q8_0;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 32; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      int to = dstOffset + block * 32;
      float scale = Vectors.half(src, at);
      ByteVector quants = ByteVector.fromArray(BYTES_32, src, at + 2);
      Vectors.low(quants).mul(scale).intoArray(dst, to);
      Vectors.high(quants).mul(scale).intoArray(dst, to + 16);
    }
  }

  @Override
  public float dot(byte[] src, int srcOffset, float[] x, int xOffset, int count) {
    FloatVector sum = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 32; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      int xi = xOffset + block * 32;
      ByteVector quants = ByteVector.fromArray(BYTES_32, src, at + 2);
      // the block's products summed per lane, then scaled once: one multiply fewer per block
      FloatVector products =
          Vectors.low(quants)
              .fma(
                  FloatVector.fromArray(FLOATS, x, xi),
                  Vectors.high(quants).mul(FloatVector.fromArray(FLOATS, x, xi + 16)));
      sum = products.fma(FloatVector.broadcast(FLOATS, Vectors.half(src, at)), sum);
    }
    return Vectors.sum(sum);
  }

  @Override
  public void dotRows(
      byte[] src,
      int srcOffset,
      int rowBytes,
      int rows,
      float[] x,
      int xOffset,
      float[] out,
      int outOffset,
      int count) {
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
      dotPair(
          src,
          srcOffset + r * rowBytes,
          srcOffset + (r + 1) * rowBytes,
          x,
          xOffset,
          out,
          outOffset + r,
          count);
    }
    if (r < rows) {
      out[outOffset + r] = dot(src, srcOffset + r * rowBytes, x, xOffset, count);
    }
  }

  @Override
  public void dotsRows(
      byte[] src,
      int srcOffset,
      int rowBytes,
      int rows,
      float[] x,
      int xOffset,
      int xStride,
      int tokens,
      float[] out,
      int outOffset,
      int outStride,
      int count) {
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
      int first = srcOffset + r * rowBytes;
      int t = 0;
      for (; t + 4 <= tokens; t += 4) {
        dotsPair4(
            src,
            first,
            rowBytes,
            x,
            xOffset + t * xStride,
            xStride,
            out,
            outOffset + r + t * outStride,
            outStride,
            count);
      }
      if (t + 2 <= tokens) {
        dotsPair2(
            src,
            first,
            rowBytes,
            x,
            xOffset + t * xStride,
            xStride,
            out,
            outOffset + r + t * outStride,
            outStride,
            count);
        t += 2;
      }
      if (t < tokens) {
        dotPair(
            src,
            first,
            first + rowBytes,
            x,
            xOffset + t * xStride,
            out,
            outOffset + r + t * outStride,
            count);
      }
    }
    if (r < rows) {
      dots(
          src,
          srcOffset + r * rowBytes,
          x,
          xOffset,
          xStride,
          tokens,
          out,
          outOffset + r,
          outStride,
          count);
    }
  }

  /**
   * Two consecutive rows against four tokens: each block of both rows is decoded once and each
   * token's activations are loaded once for both rows.
   */
  private static void dotsPair4(
      byte[] src,
      int first,
      int rowBytes,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int at,
      int outStride,
      int count) {
    FloatVector a0 = FloatVector.zero(FLOATS);
    FloatVector a1 = FloatVector.zero(FLOATS);
    FloatVector a2 = FloatVector.zero(FLOATS);
    FloatVector a3 = FloatVector.zero(FLOATS);
    FloatVector b0 = FloatVector.zero(FLOATS);
    FloatVector b1 = FloatVector.zero(FLOATS);
    FloatVector b2 = FloatVector.zero(FLOATS);
    FloatVector b3 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 32; block++) {
      int a = first + block * BLOCK_BYTES;
      int b = a + rowBytes;
      float scaleA = Vectors.half(src, a);
      float scaleB = Vectors.half(src, b);
      ByteVector quantsA = ByteVector.fromArray(BYTES_32, src, a + 2);
      ByteVector quantsB = ByteVector.fromArray(BYTES_32, src, b + 2);
      FloatVector wa0 = Vectors.low(quantsA).mul(scaleA);
      FloatVector wa1 = Vectors.high(quantsA).mul(scaleA);
      FloatVector wb0 = Vectors.low(quantsB).mul(scaleB);
      FloatVector wb1 = Vectors.high(quantsB).mul(scaleB);
      int xi = xOffset + block * 32;
      FloatVector x0 = FloatVector.fromArray(FLOATS, x, xi);
      FloatVector x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a0 = wa1.fma(x1, wa0.fma(x0, a0));
      b0 = wb1.fma(x1, wb0.fma(x0, b0));
      xi += xStride;
      x0 = FloatVector.fromArray(FLOATS, x, xi);
      x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a1 = wa1.fma(x1, wa0.fma(x0, a1));
      b1 = wb1.fma(x1, wb0.fma(x0, b1));
      xi += xStride;
      x0 = FloatVector.fromArray(FLOATS, x, xi);
      x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a2 = wa1.fma(x1, wa0.fma(x0, a2));
      b2 = wb1.fma(x1, wb0.fma(x0, b2));
      xi += xStride;
      x0 = FloatVector.fromArray(FLOATS, x, xi);
      x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a3 = wa1.fma(x1, wa0.fma(x0, a3));
      b3 = wb1.fma(x1, wb0.fma(x0, b3));
    }
    out[at] = Vectors.sum(a0);
    out[at + 1] = Vectors.sum(b0);
    out[at + outStride] = Vectors.sum(a1);
    out[at + 1 + outStride] = Vectors.sum(b1);
    out[at + 2 * outStride] = Vectors.sum(a2);
    out[at + 1 + 2 * outStride] = Vectors.sum(b2);
    out[at + 3 * outStride] = Vectors.sum(a3);
    out[at + 1 + 3 * outStride] = Vectors.sum(b3);
  }

  /** Two consecutive rows against two tokens (see {@link #dotsPair4}). */
  private static void dotsPair2(
      byte[] src,
      int first,
      int rowBytes,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int at,
      int outStride,
      int count) {
    FloatVector a0 = FloatVector.zero(FLOATS);
    FloatVector a1 = FloatVector.zero(FLOATS);
    FloatVector b0 = FloatVector.zero(FLOATS);
    FloatVector b1 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 32; block++) {
      int a = first + block * BLOCK_BYTES;
      int b = a + rowBytes;
      float scaleA = Vectors.half(src, a);
      float scaleB = Vectors.half(src, b);
      ByteVector quantsA = ByteVector.fromArray(BYTES_32, src, a + 2);
      ByteVector quantsB = ByteVector.fromArray(BYTES_32, src, b + 2);
      FloatVector wa0 = Vectors.low(quantsA).mul(scaleA);
      FloatVector wa1 = Vectors.high(quantsA).mul(scaleA);
      FloatVector wb0 = Vectors.low(quantsB).mul(scaleB);
      FloatVector wb1 = Vectors.high(quantsB).mul(scaleB);
      int xi = xOffset + block * 32;
      FloatVector x0 = FloatVector.fromArray(FLOATS, x, xi);
      FloatVector x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a0 = wa1.fma(x1, wa0.fma(x0, a0));
      b0 = wb1.fma(x1, wb0.fma(x0, b0));
      xi += xStride;
      x0 = FloatVector.fromArray(FLOATS, x, xi);
      x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a1 = wa1.fma(x1, wa0.fma(x0, a1));
      b1 = wb1.fma(x1, wb0.fma(x0, b1));
    }
    out[at] = Vectors.sum(a0);
    out[at + 1] = Vectors.sum(b0);
    out[at + outStride] = Vectors.sum(a1);
    out[at + 1 + outStride] = Vectors.sum(b1);
  }

  /** Two rows against one activation vector, each activation vector loaded once for both. */
  private static void dotPair(
      byte[] src, int first, int second, float[] x, int xOffset, float[] out, int at, int count) {
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 32; block++) {
      int xi = xOffset + block * 32;
      FloatVector x0 = FloatVector.fromArray(FLOATS, x, xi);
      FloatVector x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      int a = first + block * BLOCK_BYTES;
      ByteVector quants = ByteVector.fromArray(BYTES_32, src, a + 2);
      FloatVector products = Vectors.low(quants).fma(x0, Vectors.high(quants).mul(x1));
      sum0 = products.fma(FloatVector.broadcast(FLOATS, Vectors.half(src, a)), sum0);
      int b = second + block * BLOCK_BYTES;
      quants = ByteVector.fromArray(BYTES_32, src, b + 2);
      products = Vectors.low(quants).fma(x0, Vectors.high(quants).mul(x1));
      sum1 = products.fma(FloatVector.broadcast(FLOATS, Vectors.half(src, b)), sum1);
    }
    out[at] = Vectors.sum(sum0);
    out[at + 1] = Vectors.sum(sum1);
  }

  @Override
  void dots2(
      byte[] src,
      int srcOffset,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int outOffset,
      int outStride,
      int count) {
    int x0 = xOffset;
    int x1 = xOffset + xStride;
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    FloatVector sum2 = FloatVector.zero(FLOATS);
    FloatVector sum3 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 32; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      int xi = block * 32;
      float scale = Vectors.half(src, at);
      ByteVector quants = ByteVector.fromArray(BYTES_32, src, at + 2);
      FloatVector w0 = Vectors.low(quants).mul(scale);
      FloatVector w1 = Vectors.high(quants).mul(scale);
      sum0 = w0.fma(FloatVector.fromArray(FLOATS, x, x0 + xi), sum0);
      sum1 = w1.fma(FloatVector.fromArray(FLOATS, x, x0 + xi + 16), sum1);
      sum2 = w0.fma(FloatVector.fromArray(FLOATS, x, x1 + xi), sum2);
      sum3 = w1.fma(FloatVector.fromArray(FLOATS, x, x1 + xi + 16), sum3);
    }
    out[outOffset] = Vectors.sum(sum0.add(sum1));
    out[outOffset + outStride] = Vectors.sum(sum2.add(sum3));
  }

  @Override
  void dots4(
      byte[] src,
      int srcOffset,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int outOffset,
      int outStride,
      int count) {
    int x0 = xOffset;
    int x1 = xOffset + xStride;
    int x2 = xOffset + 2 * xStride;
    int x3 = xOffset + 3 * xStride;
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    FloatVector sum2 = FloatVector.zero(FLOATS);
    FloatVector sum3 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 32; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      int xi = block * 32;
      float scale = Vectors.half(src, at);
      ByteVector quants = ByteVector.fromArray(BYTES_32, src, at + 2);
      FloatVector w0 = Vectors.low(quants).mul(scale);
      FloatVector w1 = Vectors.high(quants).mul(scale);
      sum0 = w0.fma(FloatVector.fromArray(FLOATS, x, x0 + xi), sum0);
      sum0 = w1.fma(FloatVector.fromArray(FLOATS, x, x0 + xi + 16), sum0);
      sum1 = w0.fma(FloatVector.fromArray(FLOATS, x, x1 + xi), sum1);
      sum1 = w1.fma(FloatVector.fromArray(FLOATS, x, x1 + xi + 16), sum1);
      sum2 = w0.fma(FloatVector.fromArray(FLOATS, x, x2 + xi), sum2);
      sum2 = w1.fma(FloatVector.fromArray(FLOATS, x, x2 + xi + 16), sum2);
      sum3 = w0.fma(FloatVector.fromArray(FLOATS, x, x3 + xi), sum3);
      sum3 = w1.fma(FloatVector.fromArray(FLOATS, x, x3 + xi + 16), sum3);
    }
    out[outOffset] = Vectors.sum(sum0);
    out[outOffset + outStride] = Vectors.sum(sum1);
    out[outOffset + 2 * outStride] = Vectors.sum(sum2);
    out[outOffset + 3 * outStride] = Vectors.sum(sum3);
  }

  @Override
  void dots8(
      byte[] src,
      int srcOffset,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int outOffset,
      int outStride,
      int count) {
    int x0 = xOffset;
    int x1 = xOffset + xStride;
    int x2 = xOffset + 2 * xStride;
    int x3 = xOffset + 3 * xStride;
    int x4 = xOffset + 4 * xStride;
    int x5 = xOffset + 5 * xStride;
    int x6 = xOffset + 6 * xStride;
    int x7 = xOffset + 7 * xStride;
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    FloatVector sum2 = FloatVector.zero(FLOATS);
    FloatVector sum3 = FloatVector.zero(FLOATS);
    FloatVector sum4 = FloatVector.zero(FLOATS);
    FloatVector sum5 = FloatVector.zero(FLOATS);
    FloatVector sum6 = FloatVector.zero(FLOATS);
    FloatVector sum7 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 32; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      int xi = block * 32;
      float scale = Vectors.half(src, at);
      ByteVector quants = ByteVector.fromArray(BYTES_32, src, at + 2);
      FloatVector w0 = Vectors.low(quants).mul(scale);
      FloatVector w1 = Vectors.high(quants).mul(scale);
      sum0 = w0.fma(FloatVector.fromArray(FLOATS, x, x0 + xi), sum0);
      sum0 = w1.fma(FloatVector.fromArray(FLOATS, x, x0 + xi + 16), sum0);
      sum1 = w0.fma(FloatVector.fromArray(FLOATS, x, x1 + xi), sum1);
      sum1 = w1.fma(FloatVector.fromArray(FLOATS, x, x1 + xi + 16), sum1);
      sum2 = w0.fma(FloatVector.fromArray(FLOATS, x, x2 + xi), sum2);
      sum2 = w1.fma(FloatVector.fromArray(FLOATS, x, x2 + xi + 16), sum2);
      sum3 = w0.fma(FloatVector.fromArray(FLOATS, x, x3 + xi), sum3);
      sum3 = w1.fma(FloatVector.fromArray(FLOATS, x, x3 + xi + 16), sum3);
      sum4 = w0.fma(FloatVector.fromArray(FLOATS, x, x4 + xi), sum4);
      sum4 = w1.fma(FloatVector.fromArray(FLOATS, x, x4 + xi + 16), sum4);
      sum5 = w0.fma(FloatVector.fromArray(FLOATS, x, x5 + xi), sum5);
      sum5 = w1.fma(FloatVector.fromArray(FLOATS, x, x5 + xi + 16), sum5);
      sum6 = w0.fma(FloatVector.fromArray(FLOATS, x, x6 + xi), sum6);
      sum6 = w1.fma(FloatVector.fromArray(FLOATS, x, x6 + xi + 16), sum6);
      sum7 = w0.fma(FloatVector.fromArray(FLOATS, x, x7 + xi), sum7);
      sum7 = w1.fma(FloatVector.fromArray(FLOATS, x, x7 + xi + 16), sum7);
    }
    out[outOffset] = Vectors.sum(sum0);
    out[outOffset + outStride] = Vectors.sum(sum1);
    out[outOffset + 2 * outStride] = Vectors.sum(sum2);
    out[outOffset + 3 * outStride] = Vectors.sum(sum3);
    out[outOffset + 4 * outStride] = Vectors.sum(sum4);
    out[outOffset + 5 * outStride] = Vectors.sum(sum5);
    out[outOffset + 6 * outStride] = Vectors.sum(sum6);
    out[outOffset + 7 * outStride] = Vectors.sum(sum7);
  }
}
