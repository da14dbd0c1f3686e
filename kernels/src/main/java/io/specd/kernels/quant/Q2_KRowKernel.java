package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q2_K rows: super-blocks of 256 values (16 scale bytes, 64 bytes of 2-bit quants, f16 d, f16 dmin)
 * in 16 sub-blocks of 16; value = d·sc·q − dmin·m with sc and m the nibbles of the sub-block's
 * scale byte. Each half of a block is 32 packed bytes read at four shifts; each shift yields two
 * sub-blocks.
 */
final class Q2_KRowKernel extends DecodingRowKernel {
  private static final int BLOCK_BYTES = 84;

  @Override
  public GgmlType type() {
    return GgmlType.Q2_K;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at + 80);
      float min = Vectors.half(src, at + 82);
      for (int half = 0; half < 2; half++) {
        ByteVector packed = ByteVector.fromArray(BYTES_32, src, at + 16 + 32 * half);
        for (int step = 0; step < 4; step++) {
          int to = dstOffset + block * 256 + 128 * half + 32 * step;
          int scale = at + 8 * half + 2 * step;
          ByteVector quants = packed.lanewise(VectorOperators.LSHR, 2 * step).and((byte) 3);
          Vectors.low(quants)
              .mul(d * (src[scale] & 0x0f))
              .sub(min * ((src[scale] & 0xff) >>> 4))
              .intoArray(dst, to);
          Vectors.high(quants)
              .mul(d * (src[scale + 1] & 0x0f))
              .sub(min * ((src[scale + 1] & 0xff) >>> 4))
              .intoArray(dst, to + 16);
        }
      }
    }
  }

  @Override
  public float dot(byte[] src, int srcOffset, float[] x, int xOffset, int count) {
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    FloatVector sum2 = FloatVector.zero(FLOATS);
    FloatVector sum3 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at + 80);
      float min = Vectors.half(src, at + 82);
      for (int half = 0; half < 2; half++) {
        ByteVector packed = ByteVector.fromArray(BYTES_32, src, at + 16 + 32 * half);
        for (int step = 0; step < 4; step += 2) {
          int xi = xOffset + block * 256 + 128 * half + 32 * step;
          int scale = at + 8 * half + 2 * step;
          ByteVector first = packed.lanewise(VectorOperators.LSHR, 2 * step).and((byte) 3);
          ByteVector second = packed.lanewise(VectorOperators.LSHR, 2 * step + 2).and((byte) 3);
          sum0 = weights(Vectors.low(first), d, min, src[scale]).fma(load(x, xi), sum0);
          sum1 = weights(Vectors.high(first), d, min, src[scale + 1]).fma(load(x, xi + 16), sum1);
          sum2 = weights(Vectors.low(second), d, min, src[scale + 2]).fma(load(x, xi + 32), sum2);
          sum3 = weights(Vectors.high(second), d, min, src[scale + 3]).fma(load(x, xi + 48), sum3);
        }
      }
    }
    return Vectors.sum(sum0.add(sum1).add(sum2.add(sum3)));
  }

  /** q·d·sc − dmin·m, fused (for products, where rounding order is free). */
  private static FloatVector weights(FloatVector quants, float d, float min, byte scale) {
    return quants.fma(d * (scale & 0x0f), -(min * ((scale & 0xff) >>> 4)));
  }

  private static FloatVector load(float[] x, int at) {
    return FloatVector.fromArray(FLOATS, x, at);
  }
}
