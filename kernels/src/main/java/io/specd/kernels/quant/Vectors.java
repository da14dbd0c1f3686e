package io.specd.kernels.quant;

import io.specd.kernels.format.Float16;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vector shapes and small conversions shared by the row kernels. */
final class Vectors {
  /** 16 floats: one quantization sub-block of 16, or half a block of 32. */
  static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_512;

  /** 16 bytes: the packed nibbles of a 32-value block. */
  static final VectorSpecies<Byte> BYTES_16 = ByteVector.SPECIES_128;

  /** 32 bytes: one 32-value block of int8, or 32 packed bytes of a K-quant. */
  static final VectorSpecies<Byte> BYTES_32 = ByteVector.SPECIES_256;

  /** 64 bytes: 16 float32 values. */
  static final VectorSpecies<Byte> BYTES_64 = ByteVector.SPECIES_512;

  /** Every IEEE half bit pattern as float32, for the per-block scales (256 KiB, built once). */
  private static final float[] HALF_TO_FLOAT = halfTable();

  private Vectors() {}

  private static float[] halfTable() {
    float[] table = new float[1 << 16];
    for (int bits = 0; bits < table.length; bits++) {
      table[bits] = Float16.halfToFloat((short) bits);
    }
    return table;
  }

  /** The little-endian IEEE half at {@code src[at]}, as float32. */
  static float half(byte[] src, int at) {
    return HALF_TO_FLOAT[(src[at] & 0xff) | ((src[at + 1] & 0xff) << 8)];
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
