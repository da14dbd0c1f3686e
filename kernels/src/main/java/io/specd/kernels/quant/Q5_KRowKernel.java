package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q5_K rows: as Q4_K (see {@link Q4_KRowKernel}) with 32 bytes of fifth bits before the nibbles:
 * bit 2j of byte l completes the low nibble of packed byte l in group j, bit 2j+1 its high nibble.
 */
final class Q5_KRowKernel extends DecodingRowKernel {
  private static final int BLOCK_BYTES = 176;

  @Override
  public GgmlType type() {
    return GgmlType.Q5_K;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at);
      float min = Vectors.half(src, at + 2);
      ByteVector highBits = ByteVector.fromArray(BYTES_32, src, at + 16);
      for (int group = 0; group < 4; group++) {
        int to = dstOffset + block * 256 + 64 * group;
        float d1 = d * ReferenceDequantizer.scaleK4(src, at + 4, 2 * group);
        float m1 = min * ReferenceDequantizer.minK4(src, at + 4, 2 * group);
        float d2 = d * ReferenceDequantizer.scaleK4(src, at + 4, 2 * group + 1);
        float m2 = min * ReferenceDequantizer.minK4(src, at + 4, 2 * group + 1);
        ByteVector packed = ByteVector.fromArray(BYTES_32, src, at + 48 + 32 * group);
        ByteVector low = packed.and((byte) 0x0f).or(fifthBits(highBits, 2 * group));
        ByteVector high =
            packed.lanewise(VectorOperators.LSHR, 4).or(fifthBits(highBits, 2 * group + 1));
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
      ByteVector highBits = ByteVector.fromArray(BYTES_32, src, at + 16);
      for (int group = 0; group < 4; group++) {
        int xi = xOffset + block * 256 + 64 * group;
        float d1 = d * ReferenceDequantizer.scaleK4(src, at + 4, 2 * group);
        float m1 = min * ReferenceDequantizer.minK4(src, at + 4, 2 * group);
        float d2 = d * ReferenceDequantizer.scaleK4(src, at + 4, 2 * group + 1);
        float m2 = min * ReferenceDequantizer.minK4(src, at + 4, 2 * group + 1);
        ByteVector packed = ByteVector.fromArray(BYTES_32, src, at + 48 + 32 * group);
        ByteVector low = packed.and((byte) 0x0f).or(fifthBits(highBits, 2 * group));
        ByteVector high =
            packed.lanewise(VectorOperators.LSHR, 4).or(fifthBits(highBits, 2 * group + 1));
        sum0 = Vectors.low(low).fma(d1, -m1).fma(FloatVector.fromArray(FLOATS, x, xi), sum0);
        sum1 = Vectors.high(low).fma(d1, -m1).fma(FloatVector.fromArray(FLOATS, x, xi + 16), sum1);
        sum2 = Vectors.low(high).fma(d2, -m2).fma(FloatVector.fromArray(FLOATS, x, xi + 32), sum2);
        sum3 = Vectors.high(high).fma(d2, -m2).fma(FloatVector.fromArray(FLOATS, x, xi + 48), sum3);
      }
    }
    return Vectors.sum(sum0.add(sum1).add(sum2.add(sum3)));
  }

  /** Bit {@code bit} of each byte, moved to bit 4 (0 or 16). */
  private static ByteVector fifthBits(ByteVector highBits, int bit) {
    return highBits
        .lanewise(VectorOperators.LSHR, bit)
        .and((byte) 1)
        .lanewise(VectorOperators.LSHL, 4);
  }
}
