package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.Float16;
import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.FloatVector;

/** Rows of little-endian bfloat16: 16 values are widened to float32 in a register. */
final class BF16RowKernel extends DecodingRowKernel {
  private static final int LANES = FLOATS.length();

  @Override
  public GgmlType type() {
    return GgmlType.BF16;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    int i = 0;
    for (; i + LANES <= count; i += LANES) {
      HalfVectors.bfloat16s(src, srcOffset + 2 * i).intoArray(dst, dstOffset + i);
    }
    for (; i < count; i++) {
      dst[dstOffset + i] = bfloat16(src, srcOffset + 2 * i);
    }
  }

  @Override
  public float dot(byte[] src, int srcOffset, float[] x, int xOffset, int count) {
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    int i = 0;
    for (; i + 2 * LANES <= count; i += 2 * LANES) {
      sum0 =
          HalfVectors.bfloat16s(src, srcOffset + 2 * i)
              .fma(FloatVector.fromArray(FLOATS, x, xOffset + i), sum0);
      sum1 =
          HalfVectors.bfloat16s(src, srcOffset + 2 * (i + LANES))
              .fma(FloatVector.fromArray(FLOATS, x, xOffset + i + LANES), sum1);
    }
    if (i + LANES <= count) {
      sum0 =
          HalfVectors.bfloat16s(src, srcOffset + 2 * i)
              .fma(FloatVector.fromArray(FLOATS, x, xOffset + i), sum0);
      i += LANES;
    }
    float sum = Vectors.sum(sum0.add(sum1));
    for (; i < count; i++) {
      sum += bfloat16(src, srcOffset + 2 * i) * x[xOffset + i];
    }
    return sum;
  }

  private static float bfloat16(byte[] src, int at) {
    return Float16.bfloat16ToFloat(ReferenceDequantizer.int16(src, at));
  }
}
