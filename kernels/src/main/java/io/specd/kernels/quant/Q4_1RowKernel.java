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
final class Q4_1RowKernel extends FourTokenRowKernel {
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
  void dots4(
      byte[] src,
      int srcOffset,
      float[] x,
      int x0,
      int x1,
      int x2,
      int x3,
      float[] out,
      int outOffset,
      int outStride,
      int tokens,
      int count) {
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
    store(
        out,
        outOffset,
        outStride,
        tokens,
        Vectors.sum(sum0),
        Vectors.sum(sum1),
        Vectors.sum(sum2),
        Vectors.sum(sum3));
  }
}
