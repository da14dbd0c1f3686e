package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.Float16;
import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rows of little-endian bfloat16: 16 values at a time are sign-extended to ints and shifted into
 * the upper half of a float32. The conversion is written out in each loop (see {@link
 * Q4_KRowKernel} on why no vector helper).
 */
final class BF16RowKernel extends DecodingRowKernel {
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_512;
  private static final int LANES = FLOATS.length();

  @Override
  public GgmlType type() {
    return GgmlType.BF16;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    int i = 0;
    for (; i + LANES <= count; i += LANES) {
      IntVector bits =
          (IntVector)
              ByteVector.fromArray(BYTES_32, src, srcOffset + 2 * i)
                  .reinterpretAsShorts()
                  .convertShape(VectorOperators.S2I, INTS, 0);
      FloatVector values = bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      values.intoArray(dst, dstOffset + i);
    }
    for (; i < count; i++) {
      dst[dstOffset + i] = bfloat16(src, srcOffset + 2 * i);
    }
  }

  @Override
  public float dot(byte[] src, int srcOffset, float[] x, int xOffset, int count) {
    FloatVector sum = FloatVector.zero(FLOATS);
    int i = 0;
    for (; i + LANES <= count; i += LANES) {
      IntVector bits =
          (IntVector)
              ByteVector.fromArray(BYTES_32, src, srcOffset + 2 * i)
                  .reinterpretAsShorts()
                  .convertShape(VectorOperators.S2I, INTS, 0);
      FloatVector values = bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      sum = values.fma(FloatVector.fromArray(FLOATS, x, xOffset + i), sum);
    }
    float total = Vectors.sum(sum);
    for (; i < count; i++) {
      total += bfloat16(src, srcOffset + 2 * i) * x[xOffset + i];
    }
    return total;
  }

  private static float bfloat16(byte[] src, int at) {
    return Float16.bfloat16ToFloat(ReferenceDequantizer.int16(src, at));
  }
}
