package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/** Q8_0 rows: blocks of an f16 scale and 32 int8 quants, widened 16 at a time. */
final class Q8_0RowKernel extends DecodingRowKernel {
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
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 32; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      int xi = xOffset + block * 32;
      float scale = Vectors.half(src, at);
      ByteVector quants = ByteVector.fromArray(BYTES_32, src, at + 2);
      sum0 = Vectors.low(quants).mul(scale).fma(FloatVector.fromArray(FLOATS, x, xi), sum0);
      sum1 = Vectors.high(quants).mul(scale).fma(FloatVector.fromArray(FLOATS, x, xi + 16), sum1);
    }
    return Vectors.sum(sum0.add(sum1));
  }
}
