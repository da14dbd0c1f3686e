package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_K rows: super-blocks of 256 values (f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128
 * bytes of nibbles) in 8 sub-blocks of 32; value = d·sc·q − dmin·m. Each 32 packed bytes hold two
 * sub-blocks (low nibbles, then high nibbles); their scale and minimum are applied once per decoded
 * vector.
 */
final class Q4_KRowKernel extends DecodingRowKernel {
  private static final int BLOCK_BYTES = 144;

  @Override
  public GgmlType type() {
    return GgmlType.Q4_K;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at);
      float min = Vectors.half(src, at + 2);
      for (int group = 0; group < 4; group++) {
        int to = dstOffset + block * 256 + 64 * group;
        float d1 = d * ReferenceDequantizer.scaleK4(src, at + 4, 2 * group);
        float m1 = min * ReferenceDequantizer.minK4(src, at + 4, 2 * group);
        float d2 = d * ReferenceDequantizer.scaleK4(src, at + 4, 2 * group + 1);
        float m2 = min * ReferenceDequantizer.minK4(src, at + 4, 2 * group + 1);
        ByteVector packed = ByteVector.fromArray(BYTES_32, src, at + 16 + 32 * group);
        ByteVector low = packed.and((byte) 0x0f);
        ByteVector high = packed.lanewise(VectorOperators.LSHR, 4);
        Vectors.low(low).mul(d1).sub(m1).intoArray(dst, to);
        Vectors.high(low).mul(d1).sub(m1).intoArray(dst, to + 16);
        Vectors.low(high).mul(d2).sub(m2).intoArray(dst, to + 32);
        Vectors.high(high).mul(d2).sub(m2).intoArray(dst, to + 48);
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
      float d = Vectors.half(src, at);
      float min = Vectors.half(src, at + 2);
      for (int group = 0; group < 4; group++) {
        int xi = xOffset + block * 256 + 64 * group;
        float d1 = d * ReferenceDequantizer.scaleK4(src, at + 4, 2 * group);
        float m1 = min * ReferenceDequantizer.minK4(src, at + 4, 2 * group);
        float d2 = d * ReferenceDequantizer.scaleK4(src, at + 4, 2 * group + 1);
        float m2 = min * ReferenceDequantizer.minK4(src, at + 4, 2 * group + 1);
        ByteVector packed = ByteVector.fromArray(BYTES_32, src, at + 16 + 32 * group);
        ByteVector low = packed.and((byte) 0x0f);
        ByteVector high = packed.lanewise(VectorOperators.LSHR, 4);
        sum0 = Vectors.low(low).fma(d1, -m1).fma(FloatVector.fromArray(FLOATS, x, xi), sum0);
        sum1 = Vectors.high(low).fma(d1, -m1).fma(FloatVector.fromArray(FLOATS, x, xi + 16), sum1);
        sum2 = Vectors.low(high).fma(d2, -m2).fma(FloatVector.fromArray(FLOATS, x, xi + 32), sum2);
        sum3 = Vectors.high(high).fma(d2, -m2).fma(FloatVector.fromArray(FLOATS, x, xi + 48), sum3);
      }
    }
    return Vectors.sum(sum0.add(sum1).add(sum2.add(sum3)));
  }
}
