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
    dotsRows(src, srcOffset, rowBytes, rows, x, xOffset, count, 1, out, outOffset, rows, count);
  }

  /**
   * Row batches (in L1: a copied chunk) are repacked into this thread's split scratch first, so the
   * products share {@link SplitQ8_0Rows}' pair kernels and panels: rows in pairs, each block
   * decoded once for up to four tokens, and the same sums bit for bit as a split matrix.
   */
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
    SplitScratch scratch = SCRATCH.get().ensure(rows, count);
    SplitQ8_0Rows.repack(src, srcOffset, 0, rows, rows, count, scratch.quants, scratch.scales);
    SplitQ8_0Rows.products(
        scratch.quants,
        scratch.scales,
        rows,
        count,
        0,
        rows,
        x,
        xOffset,
        xStride,
        tokens,
        out,
        outOffset,
        outStride);
  }

  private static final ThreadLocal<SplitScratch> SCRATCH =
      ThreadLocal.withInitial(SplitScratch::new);

  /** A thread's rows in the split layout, grown to the largest batch it has seen. */
  private static final class SplitScratch {
    byte[] quants = new byte[0];
    float[] scales = new float[0];

    SplitScratch ensure(int rows, int count) {
      int padded = rows + rows % 2;
      if (quants.length < padded * count) {
        quants = new byte[padded * count];
        scales = new float[padded * count / 32];
      }
      return this;
    }
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
