package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_16;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q5_0 rows: blocks of an f16 scale, 32 fifth bits and 16 bytes of nibbles (low nibbles are values
 * 0–15, high nibbles 16–31); value = (q − 16)·d.
 */
final class Q5_0RowKernel extends DecodingRowKernel {
  private static final int BLOCK_BYTES = 22;

  @Override
  public GgmlType type() {
    return GgmlType.Q5_0;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 32; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      int to = dstOffset + block * 32;
      float scale = Vectors.half(src, at);
      int highBits = ReferenceDequantizer.int32(src, at + 2);
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 2 + 4);
      FloatVector low = FifthBits.values(packed.and((byte) 0x0f), highBits, 0, 16);
      FloatVector high =
          FifthBits.values(packed.lanewise(VectorOperators.LSHR, 4), highBits, 16, 16);
      low.mul(scale).intoArray(dst, to);
      high.mul(scale).intoArray(dst, to + 16);
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
      int highBits = ReferenceDequantizer.int32(src, at + 2);
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 2 + 4);
      FloatVector low = FifthBits.values(packed.and((byte) 0x0f), highBits, 0, 16);
      FloatVector high =
          FifthBits.values(packed.lanewise(VectorOperators.LSHR, 4), highBits, 16, 16);
      sum0 = low.mul(scale).fma(FloatVector.fromArray(FLOATS, x, xi), sum0);
      sum1 = high.mul(scale).fma(FloatVector.fromArray(FLOATS, x, xi + 16), sum1);
    }
    return Vectors.sum(sum0.add(sum1));
  }
}
