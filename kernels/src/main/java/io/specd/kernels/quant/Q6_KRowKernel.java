package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q6_K rows: super-blocks of 256 values (128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16
 * int8 scales, f16 d) in 16 sub-blocks of 16; value = d·sc·(q − 32). Each half of a block is four
 * runs of 32 values built from 32 low-nibble bytes and 32 high-part bytes; each run is two
 * sub-blocks, whose scale d·sc is applied once per decoded vector.
 */
final class Q6_KRowKernel extends DecodingRowKernel {
  private static final int BLOCK_BYTES = 210;

  @Override
  public GgmlType type() {
    return GgmlType.Q6_K;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at + 208);
      for (int half = 0; half < 2; half++) {
        int to = dstOffset + block * 256 + 128 * half;
        int scales = at + 192 + 8 * half;
        ByteVector lowA = ByteVector.fromArray(BYTES_32, src, at + 64 * half);
        ByteVector lowB = ByteVector.fromArray(BYTES_32, src, at + 64 * half + 32);
        ByteVector highs = ByteVector.fromArray(BYTES_32, src, at + 128 + 32 * half);
        store(values(lowA.and((byte) 0x0f), highs, 0), d, src, scales, dst, to);
        store(values(lowB.and((byte) 0x0f), highs, 2), d, src, scales + 2, dst, to + 32);
        store(values(nibbles(lowA), highs, 4), d, src, scales + 4, dst, to + 64);
        store(values(nibbles(lowB), highs, 6), d, src, scales + 6, dst, to + 96);
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
      float d = Vectors.half(src, at + 208);
      for (int half = 0; half < 2; half++) {
        int xi = xOffset + block * 256 + 128 * half;
        int scales = at + 192 + 8 * half;
        ByteVector lowA = ByteVector.fromArray(BYTES_32, src, at + 64 * half);
        ByteVector lowB = ByteVector.fromArray(BYTES_32, src, at + 64 * half + 32);
        ByteVector highs = ByteVector.fromArray(BYTES_32, src, at + 128 + 32 * half);
        ByteVector run0 = values(lowA.and((byte) 0x0f), highs, 0);
        ByteVector run1 = values(lowB.and((byte) 0x0f), highs, 2);
        ByteVector run2 = values(nibbles(lowA), highs, 4);
        ByteVector run3 = values(nibbles(lowB), highs, 6);
        sum0 = Vectors.low(run0).mul(d * src[scales]).fma(load(x, xi), sum0);
        sum1 = Vectors.high(run0).mul(d * src[scales + 1]).fma(load(x, xi + 16), sum1);
        sum2 = Vectors.low(run1).mul(d * src[scales + 2]).fma(load(x, xi + 32), sum2);
        sum3 = Vectors.high(run1).mul(d * src[scales + 3]).fma(load(x, xi + 48), sum3);
        sum0 = Vectors.low(run2).mul(d * src[scales + 4]).fma(load(x, xi + 64), sum0);
        sum1 = Vectors.high(run2).mul(d * src[scales + 5]).fma(load(x, xi + 80), sum1);
        sum2 = Vectors.low(run3).mul(d * src[scales + 6]).fma(load(x, xi + 96), sum2);
        sum3 = Vectors.high(run3).mul(d * src[scales + 7]).fma(load(x, xi + 112), sum3);
      }
    }
    return Vectors.sum(sum0.add(sum1).add(sum2.add(sum3)));
  }

  private static ByteVector nibbles(ByteVector packed) {
    return packed.lanewise(VectorOperators.LSHR, 4);
  }

  /** Low nibbles completed by the 2-bit high parts at {@code shift}, minus 32: −32..31. */
  private static ByteVector values(ByteVector lowNibbles, ByteVector highs, int shift) {
    ByteVector high = highs.lanewise(VectorOperators.LSHR, shift).and((byte) 3);
    return lowNibbles.or(high.lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
  }

  /** A run of 32 values: two sub-blocks with the int8 scales at {@code src[scales]} and next. */
  private static void store(ByteVector run, float d, byte[] src, int scales, float[] dst, int to) {
    Vectors.low(run).mul(d * src[scales]).intoArray(dst, to);
    Vectors.high(run).mul(d * src[scales + 1]).intoArray(dst, to + 16);
  }

  private static FloatVector load(float[] x, int at) {
    return FloatVector.fromArray(FLOATS, x, at);
  }
}
