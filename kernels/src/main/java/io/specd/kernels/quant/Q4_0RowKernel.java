package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_16;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_0 rows: blocks of an f16 scale and 16 bytes of nibbles; the low nibbles are values 0–15 and
 * the high nibbles values 16–31, each biased by 8.
 */
final class Q4_0RowKernel extends FourTokenRowKernel {
  private static final int BLOCK_BYTES = 18;

  @Override
  public GgmlType type() {
    return GgmlType.Q4_0;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 32; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      int to = dstOffset + block * 32;
      float scale = Vectors.half(src, at);
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 2);
      Vectors.floats(lowNibbles(packed)).mul(scale).intoArray(dst, to);
      Vectors.floats(highNibbles(packed)).mul(scale).intoArray(dst, to + 16);
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
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 2);
      FloatVector w0 = Vectors.floats(lowNibbles(packed)).mul(scale);
      FloatVector w1 = Vectors.floats(highNibbles(packed)).mul(scale);
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
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 2);
      FloatVector w0 = Vectors.floats(lowNibbles(packed)).mul(scale);
      FloatVector w1 = Vectors.floats(highNibbles(packed)).mul(scale);
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

  private static ByteVector lowNibbles(ByteVector packed) {
    return packed.and((byte) 0x0f).sub((byte) 8);
  }

  private static ByteVector highNibbles(ByteVector packed) {
    return packed.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
  }
}
