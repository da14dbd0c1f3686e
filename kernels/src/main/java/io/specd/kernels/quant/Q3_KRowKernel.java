package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q3_K rows: super-blocks of 256 values (32 bytes of high bits, 64 bytes of 2-bit quants, 12 bytes
 * of 6-bit scales, f16 d) in 16 sub-blocks of 16; value = d·(sc − 32)·(q − 4) with q's third bit
 * from the high-bit mask. Laid out like Q2_K: each half is 32 packed bytes read at four shifts, and
 * the mask bit of shift s in half h is bit 4h+s of the 32 mask bytes.
 */
final class Q3_KRowKernel extends DecodingRowKernel {
  private static final int BLOCK_BYTES = 110;

  @Override
  public GgmlType type() {
    return GgmlType.Q3_K;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at + 108);
      ByteVector mask = ByteVector.fromArray(BYTES_32, src, at);
      for (int half = 0; half < 2; half++) {
        ByteVector packed = ByteVector.fromArray(BYTES_32, src, at + 32 + 32 * half);
        for (int step = 0; step < 4; step++) {
          int to = dstOffset + block * 256 + 128 * half + 32 * step;
          int scale = 8 * half + 2 * step;
          ByteVector quants = quants(packed, mask, half, step);
          Vectors.low(quants).mul(d * scale(src, at, scale)).intoArray(dst, to);
          Vectors.high(quants).mul(d * scale(src, at, scale + 1)).intoArray(dst, to + 16);
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
      float d = Vectors.half(src, at + 108);
      ByteVector mask = ByteVector.fromArray(BYTES_32, src, at);
      for (int half = 0; half < 2; half++) {
        ByteVector packed = ByteVector.fromArray(BYTES_32, src, at + 32 + 32 * half);
        for (int step = 0; step < 4; step += 2) {
          int xi = xOffset + block * 256 + 128 * half + 32 * step;
          int scale = 8 * half + 2 * step;
          ByteVector first = quants(packed, mask, half, step);
          ByteVector second = quants(packed, mask, half, step + 1);
          sum0 = Vectors.low(first).mul(d * scale(src, at, scale)).fma(load(x, xi), sum0);
          sum1 = Vectors.high(first).mul(d * scale(src, at, scale + 1)).fma(load(x, xi + 16), sum1);
          sum2 = Vectors.low(second).mul(d * scale(src, at, scale + 2)).fma(load(x, xi + 32), sum2);
          sum3 =
              Vectors.high(second).mul(d * scale(src, at, scale + 3)).fma(load(x, xi + 48), sum3);
        }
      }
    }
    return Vectors.sum(sum0.add(sum1).add(sum2.add(sum3)));
  }

  /** The 32 values −4..3 of one shift: 2 low bits, minus 4 unless the mask bit is set. */
  private static ByteVector quants(ByteVector packed, ByteVector mask, int half, int step) {
    ByteVector low = packed.lanewise(VectorOperators.LSHR, 2 * step).and((byte) 3);
    ByteVector high = mask.lanewise(VectorOperators.LSHR, 4 * half + step).and((byte) 1);
    return low.or(high.lanewise(VectorOperators.LSHL, 2)).sub((byte) 4);
  }

  /** Sub-block scale j, unbiased: −32..31. */
  private static int scale(byte[] src, int block, int j) {
    return ReferenceDequantizer.q3kScale(src, block + 96, j) - 32;
  }

  private static FloatVector load(float[] x, int at) {
    return FloatVector.fromArray(FLOATS, x, at);
  }
}
