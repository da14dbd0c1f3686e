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
final class BF16RowKernel extends TokenGroupRowKernel {
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

  @Override
  void dots2(
      byte[] src,
      int srcOffset,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int outOffset,
      int outStride,
      int count) {
    int x0 = xOffset;
    int x1 = xOffset + xStride;
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    int i = 0;
    for (; i + LANES <= count; i += LANES) {
      IntVector bits =
          (IntVector)
              ByteVector.fromArray(BYTES_32, src, srcOffset + 2 * i)
                  .reinterpretAsShorts()
                  .convertShape(VectorOperators.S2I, INTS, 0);
      FloatVector values = bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      sum0 = values.fma(FloatVector.fromArray(FLOATS, x, x0 + i), sum0);
      sum1 = values.fma(FloatVector.fromArray(FLOATS, x, x1 + i), sum1);
    }
    float total0 = Vectors.sum(sum0);
    float total1 = Vectors.sum(sum1);
    for (; i < count; i++) {
      float weight = bfloat16(src, srcOffset + 2 * i);
      total0 += weight * x[x0 + i];
      total1 += weight * x[x1 + i];
    }
    out[outOffset] = total0;
    out[outOffset + outStride] = total1;
  }

  @Override
  void dots4(
      byte[] src,
      int srcOffset,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int outOffset,
      int outStride,
      int count) {
    int x0 = xOffset;
    int x1 = xOffset + xStride;
    int x2 = xOffset + 2 * xStride;
    int x3 = xOffset + 3 * xStride;
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    FloatVector sum2 = FloatVector.zero(FLOATS);
    FloatVector sum3 = FloatVector.zero(FLOATS);
    int i = 0;
    for (; i + LANES <= count; i += LANES) {
      IntVector bits =
          (IntVector)
              ByteVector.fromArray(BYTES_32, src, srcOffset + 2 * i)
                  .reinterpretAsShorts()
                  .convertShape(VectorOperators.S2I, INTS, 0);
      FloatVector values = bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      sum0 = values.fma(FloatVector.fromArray(FLOATS, x, x0 + i), sum0);
      sum1 = values.fma(FloatVector.fromArray(FLOATS, x, x1 + i), sum1);
      sum2 = values.fma(FloatVector.fromArray(FLOATS, x, x2 + i), sum2);
      sum3 = values.fma(FloatVector.fromArray(FLOATS, x, x3 + i), sum3);
    }
    float total0 = Vectors.sum(sum0);
    float total1 = Vectors.sum(sum1);
    float total2 = Vectors.sum(sum2);
    float total3 = Vectors.sum(sum3);
    for (; i < count; i++) {
      float weight = bfloat16(src, srcOffset + 2 * i);
      total0 += weight * x[x0 + i];
      total1 += weight * x[x1 + i];
      total2 += weight * x[x2 + i];
      total3 += weight * x[x3 + i];
    }
    out[outOffset] = total0;
    out[outOffset + outStride] = total1;
    out[outOffset + 2 * outStride] = total2;
    out[outOffset + 3 * outStride] = total3;
  }

  @Override
  void dots8(
      byte[] src,
      int srcOffset,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int outOffset,
      int outStride,
      int count) {
    int x0 = xOffset;
    int x1 = xOffset + xStride;
    int x2 = xOffset + 2 * xStride;
    int x3 = xOffset + 3 * xStride;
    int x4 = xOffset + 4 * xStride;
    int x5 = xOffset + 5 * xStride;
    int x6 = xOffset + 6 * xStride;
    int x7 = xOffset + 7 * xStride;
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    FloatVector sum2 = FloatVector.zero(FLOATS);
    FloatVector sum3 = FloatVector.zero(FLOATS);
    FloatVector sum4 = FloatVector.zero(FLOATS);
    FloatVector sum5 = FloatVector.zero(FLOATS);
    FloatVector sum6 = FloatVector.zero(FLOATS);
    FloatVector sum7 = FloatVector.zero(FLOATS);
    int i = 0;
    for (; i + LANES <= count; i += LANES) {
      IntVector bits =
          (IntVector)
              ByteVector.fromArray(BYTES_32, src, srcOffset + 2 * i)
                  .reinterpretAsShorts()
                  .convertShape(VectorOperators.S2I, INTS, 0);
      FloatVector values = bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      sum0 = values.fma(FloatVector.fromArray(FLOATS, x, x0 + i), sum0);
      sum1 = values.fma(FloatVector.fromArray(FLOATS, x, x1 + i), sum1);
      sum2 = values.fma(FloatVector.fromArray(FLOATS, x, x2 + i), sum2);
      sum3 = values.fma(FloatVector.fromArray(FLOATS, x, x3 + i), sum3);
      sum4 = values.fma(FloatVector.fromArray(FLOATS, x, x4 + i), sum4);
      sum5 = values.fma(FloatVector.fromArray(FLOATS, x, x5 + i), sum5);
      sum6 = values.fma(FloatVector.fromArray(FLOATS, x, x6 + i), sum6);
      sum7 = values.fma(FloatVector.fromArray(FLOATS, x, x7 + i), sum7);
    }
    float total0 = Vectors.sum(sum0);
    float total1 = Vectors.sum(sum1);
    float total2 = Vectors.sum(sum2);
    float total3 = Vectors.sum(sum3);
    float total4 = Vectors.sum(sum4);
    float total5 = Vectors.sum(sum5);
    float total6 = Vectors.sum(sum6);
    float total7 = Vectors.sum(sum7);
    for (; i < count; i++) {
      float weight = bfloat16(src, srcOffset + 2 * i);
      total0 += weight * x[x0 + i];
      total1 += weight * x[x1 + i];
      total2 += weight * x[x2 + i];
      total3 += weight * x[x3 + i];
      total4 += weight * x[x4 + i];
      total5 += weight * x[x5 + i];
      total6 += weight * x[x6 + i];
      total7 += weight * x[x7 + i];
    }
    out[outOffset] = total0;
    out[outOffset + outStride] = total1;
    out[outOffset + 2 * outStride] = total2;
    out[outOffset + 3 * outStride] = total3;
    out[outOffset + 4 * outStride] = total4;
    out[outOffset + 5 * outStride] = total5;
    out[outOffset + 6 * outStride] = total6;
    out[outOffset + 7 * outStride] = total7;
  }

  private static float bfloat16(byte[] src, int at) {
    return Float16.bfloat16ToFloat(ReferenceDequantizer.int16(src, at));
  }
}
