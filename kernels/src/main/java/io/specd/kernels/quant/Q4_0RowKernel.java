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
final class Q4_0RowKernel extends DecodingRowKernel {
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
      sum0 =
          Vectors.floats(lowNibbles(packed))
              .mul(scale)
              .fma(FloatVector.fromArray(FLOATS, x, xi), sum0);
      sum1 =
          Vectors.floats(highNibbles(packed))
              .mul(scale)
              .fma(FloatVector.fromArray(FLOATS, x, xi + 16), sum1);
    }
    return Vectors.sum(sum0.add(sum1));
  }

  private static ByteVector lowNibbles(ByteVector packed) {
    return packed.and((byte) 0x0f).sub((byte) 8);
  }

  private static ByteVector highNibbles(ByteVector packed) {
    return packed.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
  }
}
