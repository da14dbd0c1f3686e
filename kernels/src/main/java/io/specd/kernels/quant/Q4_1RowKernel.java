package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_16;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_1 rows: blocks of an f16 scale, an f16 minimum and 16 bytes of nibbles (low nibbles are values
 * 0–15, high nibbles 16–31); value = q·d + m.
 */
final class Q4_1RowKernel extends TokenGroupRowKernel {
  private static final int BLOCK_BYTES = 20;

  @Override
  public GgmlType type() {
    return GgmlType.Q4_1;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 32; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      int to = dstOffset + block * 32;
      float scale = Vectors.half(src, at);
      float minimum = Vectors.half(src, at + 2);
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 4);
      Vectors.floats(packed.and((byte) 0x0f)).mul(scale).add(minimum).intoArray(dst, to);
      Vectors.floats(packed.lanewise(VectorOperators.LSHR, 4))
          .mul(scale)
          .add(minimum)
          .intoArray(dst, to + 16);
    }
  }

  @Override
  public float dot(byte[] src, int srcOffset, float[] x, int xOffset, int count) {
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 32; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      int xi = xOffset + block * 32;
      float scale = Vectors.half(src, at);
      float minimum = Vectors.half(src, at + 2);
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 4);
      FloatVector low = Vectors.floats(packed.and((byte) 0x0f)).fma(scale, minimum);
      FloatVector high =
          Vectors.floats(packed.lanewise(VectorOperators.LSHR, 4)).fma(scale, minimum);
      FloatVector w0 = low;
      FloatVector w1 = high;
      sum0 = w0.fma(FloatVector.fromArray(FLOATS, x, xi), sum0);
      sum1 = w1.fma(FloatVector.fromArray(FLOATS, x, xi + 16), sum1);
    }
    return Vectors.sum(sum0.add(sum1));
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
      float minimum = Vectors.half(src, at + 2);
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 4);
      FloatVector low = Vectors.floats(packed.and((byte) 0x0f)).fma(scale, minimum);
      FloatVector high =
          Vectors.floats(packed.lanewise(VectorOperators.LSHR, 4)).fma(scale, minimum);
      FloatVector w0 = low;
      FloatVector w1 = high;
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
      float minimum = Vectors.half(src, at + 2);
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 4);
      FloatVector low = Vectors.floats(packed.and((byte) 0x0f)).fma(scale, minimum);
      FloatVector high =
          Vectors.floats(packed.lanewise(VectorOperators.LSHR, 4)).fma(scale, minimum);
      FloatVector w0 = low;
      FloatVector w1 = high;
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
      float minimum = Vectors.half(src, at + 2);
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 4);
      FloatVector low = Vectors.floats(packed.and((byte) 0x0f)).fma(scale, minimum);
      FloatVector high =
          Vectors.floats(packed.lanewise(VectorOperators.LSHR, 4)).fma(scale, minimum);
      FloatVector w0 = low;
      FloatVector w1 = high;
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
