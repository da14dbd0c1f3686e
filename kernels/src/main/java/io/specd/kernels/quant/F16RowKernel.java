package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.FloatVector;

/** Rows of little-endian IEEE halves: 16 values are widened to float32 in a register. */
final class F16RowKernel extends DecodingRowKernel {
  private static final int LANES = FLOATS.length();

  @Override
  public GgmlType type() {
    return GgmlType.F16;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    int i = 0;
    for (; i + LANES <= count; i += LANES) {
      HalfVectors.halves(src, srcOffset + 2 * i).intoArray(dst, dstOffset + i);
    }
    for (; i < count; i++) {
      dst[dstOffset + i] = Vectors.half(src, srcOffset + 2 * i);
    }
  }

  @Override
  public float dot(byte[] src, int srcOffset, float[] x, int xOffset, int count) {
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    int i = 0;
    for (; i + 2 * LANES <= count; i += 2 * LANES) {
      sum0 =
          HalfVectors.halves(src, srcOffset + 2 * i)
              .fma(FloatVector.fromArray(FLOATS, x, xOffset + i), sum0);
      sum1 =
          HalfVectors.halves(src, srcOffset + 2 * (i + LANES))
              .fma(FloatVector.fromArray(FLOATS, x, xOffset + i + LANES), sum1);
    }
    if (i + LANES <= count) {
      sum0 =
          HalfVectors.halves(src, srcOffset + 2 * i)
              .fma(FloatVector.fromArray(FLOATS, x, xOffset + i), sum0);
      i += LANES;
    }
    float sum = Vectors.sum(sum0.add(sum1));
    for (; i < count; i++) {
      sum += Vectors.half(src, srcOffset + 2 * i) * x[xOffset + i];
    }
    return sum;
  }
}
