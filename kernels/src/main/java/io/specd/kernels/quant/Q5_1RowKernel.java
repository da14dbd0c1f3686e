package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_16;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q5_1 rows: blocks of an f16 scale, an f16 minimum, 32 fifth bits and 16 bytes of nibbles (low
 * nibbles are values 0–15, high nibbles 16–31); value = q·d + m.
 */
final class Q5_1RowKernel extends DecodingRowKernel {
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_512;
  private static final int[] LANE_INDEX = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  private static final int BLOCK_BYTES = 24;

  @Override
  public GgmlType type() {
    return GgmlType.Q5_1;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 32; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      int to = dstOffset + block * 32;
      float scale = Vectors.half(src, at);
      float minimum = Vectors.half(src, at + 2);
      int highBits = ReferenceDequantizer.int32(src, at + 4);
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 4 + 4);
      // value i's fifth bit is bit i of qh: lane j of the low half takes bit j, of the high
      // half bit 16 + j
      IntVector laneIndex = IntVector.fromArray(INTS, LANE_INDEX, 0);
      IntVector fifthLow =
          IntVector.broadcast(INTS, highBits)
              .lanewise(VectorOperators.LSHR, laneIndex)
              .and(1)
              .lanewise(VectorOperators.LSHL, 4);
      IntVector fifthHigh =
          IntVector.broadcast(INTS, highBits >>> 16)
              .lanewise(VectorOperators.LSHR, laneIndex)
              .and(1)
              .lanewise(VectorOperators.LSHL, 4);
      IntVector lowInts =
          (IntVector) packed.and((byte) 0x0f).convertShape(VectorOperators.B2I, INTS, 0);
      IntVector highInts =
          (IntVector)
              packed.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2I, INTS, 0);
      FloatVector low =
          (FloatVector) lowInts.or(fifthLow).convertShape(VectorOperators.I2F, FLOATS, 0);
      FloatVector high =
          (FloatVector) highInts.or(fifthHigh).convertShape(VectorOperators.I2F, FLOATS, 0);
      low.mul(scale).add(minimum).intoArray(dst, to);
      high.mul(scale).add(minimum).intoArray(dst, to + 16);
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
      int highBits = ReferenceDequantizer.int32(src, at + 4);
      ByteVector packed = ByteVector.fromArray(BYTES_16, src, at + 4 + 4);
      // value i's fifth bit is bit i of qh: lane j of the low half takes bit j, of the high
      // half bit 16 + j
      IntVector laneIndex = IntVector.fromArray(INTS, LANE_INDEX, 0);
      IntVector fifthLow =
          IntVector.broadcast(INTS, highBits)
              .lanewise(VectorOperators.LSHR, laneIndex)
              .and(1)
              .lanewise(VectorOperators.LSHL, 4);
      IntVector fifthHigh =
          IntVector.broadcast(INTS, highBits >>> 16)
              .lanewise(VectorOperators.LSHR, laneIndex)
              .and(1)
              .lanewise(VectorOperators.LSHL, 4);
      IntVector lowInts =
          (IntVector) packed.and((byte) 0x0f).convertShape(VectorOperators.B2I, INTS, 0);
      IntVector highInts =
          (IntVector)
              packed.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2I, INTS, 0);
      FloatVector low =
          (FloatVector) lowInts.or(fifthLow).convertShape(VectorOperators.I2F, FLOATS, 0);
      FloatVector high =
          (FloatVector) highInts.or(fifthHigh).convertShape(VectorOperators.I2F, FLOATS, 0);
      sum0 = low.fma(scale, minimum).fma(FloatVector.fromArray(FLOATS, x, xi), sum0);
      sum1 = high.fma(scale, minimum).fma(FloatVector.fromArray(FLOATS, x, xi + 16), sum1);
    }
    return Vectors.sum(sum0.add(sum1));
  }
}
