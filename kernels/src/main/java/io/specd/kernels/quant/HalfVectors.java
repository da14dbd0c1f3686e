package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** 16 little-endian 16-bit floats (IEEE half or bfloat16) converted to float32 in registers. */
final class HalfVectors {
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_512;

  /** 2^112: moves a half's exponent (bias 15) to float32's (bias 127), exact for subnormals too. */
  private static final float EXPONENT_SHIFT = 0x1p112f;

  private HalfVectors() {}

  /** The 16 shorts at {@code src[at]}, sign-extended to ints. */
  private static IntVector shorts(byte[] src, int at) {
    return (IntVector)
        ByteVector.fromArray(BYTES_32, src, at)
            .reinterpretAsShorts()
            .convertShape(VectorOperators.S2I, INTS, 0);
  }

  /**
   * IEEE halves to float32, exactly as {@code Float16.halfToFloat}: the magnitude bits shifted into
   * float32 position and scaled by 2^112 (normal and subnormal halves), infinities and NaNs given
   * the float32 all-ones exponent, then the sign.
   */
  static FloatVector halves(byte[] src, int at) {
    IntVector bits = shorts(src, at);
    IntVector magnitude = bits.and(0x7fff);
    IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
    IntVector finite = shifted.reinterpretAsFloats().mul(EXPONENT_SHIFT).reinterpretAsInts();
    VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7c00);
    IntVector result = finite.blend(shifted.or(0x70000000), special);
    IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
    return result.or(sign).reinterpretAsFloats();
  }

  /** bfloat16 values to float32: each is the upper half of a float32. */
  static FloatVector bfloat16s(byte[] src, int at) {
    return shorts(src, at).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }
}
