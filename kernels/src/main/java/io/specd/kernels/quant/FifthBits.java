package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.FLOATS;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q5_0/Q5_1 values: 16 nibbles completed by a fifth bit each from the block's 32-bit {@code qh}
 * (bit i belongs to value i).
 */
final class FifthBits {
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_512;
  private static final int[] LANE_INDEX = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

  private FifthBits() {}

  /**
   * Values {@code first..first+15} of a block (first is 0 or 16) as floats, minus {@code bias}.
   *
   * @param nibbles 16 bytes of values 0–15
   * @param highBits the block's {@code qh}
   */
  static FloatVector values(ByteVector nibbles, int highBits, int first, int bias) {
    IntVector fifth =
        IntVector.broadcast(INTS, highBits >>> first)
            .lanewise(VectorOperators.LSHR, IntVector.fromArray(INTS, LANE_INDEX, 0))
            .and(1)
            .lanewise(VectorOperators.LSHL, 4);
    IntVector low = (IntVector) nibbles.convertShape(VectorOperators.B2I, INTS, 0);
    return (FloatVector) low.or(fifth).sub(bias).convertShape(VectorOperators.I2F, FLOATS, 0);
  }
}
