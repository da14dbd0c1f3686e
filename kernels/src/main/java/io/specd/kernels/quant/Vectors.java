package io.specd.kernels.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector shapes and small conversions shared by the row kernels.
 *
 * <p>Three rules keep C2 (JDK 17) from boxing vectors, which allocates on every block and runs
 * several times slower (measured with {@code RowKernelBenchmark}, which reports allocated bytes per
 * row):
 *
 * <ul>
 *   <li>Vector values never pass through a call C2 might not inline (it declines helpers that are
 *       hot elsewhere or, at a cold call site, over 35 bytecodes): the kernels write their decoding
 *       out in each loop and share only the one-line conversions below. Past a node count (18,000
 *       at parse) C2 declines every method of ours, one-liners too, while still inlining the JDK's
 *       forced ones: a kernel that large calls the JDK directly ({@link SplitQ8_0Rows}' two- and
 *       four-token kernels reduce with {@code reduceLanes}, not {@link #sum}).
 *   <li>No byte shift by a variable count (x86 has none; the fallback is a boxed Java loop): the
 *       K-quants shift their packed bytes as short lanes, and the mask that follows drops the bits
 *       shifted in from the neighbouring byte.
 *   <li>One vector shape per lane type and operation across all kernels: the JDK's vector code is
 *       shared and profiled per operation, and a second shape (int shifts on 128- and 256-bit
 *       vectors, say) made C2 stop inlining it and box the K-quant loops again.
 * </ul>
 */
final class Vectors {
  /** 16 floats: one quantization sub-block of 16, or half a block of 32. */
  static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_512;

  /** 16 bytes: the packed nibbles of a 32-value block. */
  static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;

  /** 32 bytes: one 32-value block of int8, or 32 packed bytes of a K-quant. */
  static final VectorSpecies<Byte> BYTES_32 = ByteVector.SPECIES_256;

  /** 64 bytes: 16 float32 values. */
  static final VectorSpecies<Byte> BYTES_64 = ByteVector.SPECIES_512;

  /** 2^112: moves a half's exponent (bias 15) to float32's (bias 127), exact for subnormals too. */
  static final float HALF_EXPONENT_SHIFT = 0x1p112f;

  private Vectors() {}

  /**
   * The little-endian IEEE half at {@code src[at]} (a block's scale or minimum), as float32:
   * exactly {@code Float16.halfToFloat}. The magnitude bits are shifted into float32 position and
   * scaled by 2^112, which is exact for normal and subnormal halves alike. This measured twice as
   * fast in the Q8_0 product as a 65,536-entry table, whose 256 KiB miss L1 on real (random)
   * scales.
   */
  static float half(byte[] src, int at) {
    int bits = (src[at] & 0xff) | ((src[at + 1] & 0xff) << 8);
    int sign = (bits & 0x8000) << 16;
    int magnitude = bits & 0x7fff;
    if (magnitude >= 0x7c00) { // infinity or NaN
      return Float.intBitsToFloat(sign | 0x7f800000 | ((magnitude & 0x3ff) << 13));
    }
    return Float.intBitsToFloat(sign | (magnitude << 13)) * HALF_EXPONENT_SHIFT;
  }

  /** Lanes 0–15 of 32 signed bytes, as floats. */
  static FloatVector low(ByteVector bytes) {
    return (FloatVector) bytes.convertShape(VectorOperators.B2F, FLOATS, 0);
  }

  /** Lanes 16–31 of 32 signed bytes, as floats. */
  static FloatVector high(ByteVector bytes) {
    return (FloatVector) bytes.convertShape(VectorOperators.B2F, FLOATS, 1);
  }

  /** 16 signed bytes as floats. */
  static FloatVector floats(ByteVector sixteenBytes) {
    return (FloatVector) sixteenBytes.convertShape(VectorOperators.B2F, FLOATS, 0);
  }

  static float sum(FloatVector vector) {
    return vector.reduceLanes(VectorOperators.ADD);
  }
}
