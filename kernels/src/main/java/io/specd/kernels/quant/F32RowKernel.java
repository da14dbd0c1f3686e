package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_64;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/** Rows of little-endian float32: 64 bytes are reinterpreted as 16 floats in a register. */
final class F32RowKernel extends FourTokenRowKernel {
  private static final int LANES = FLOATS.length();

  @Override
  public GgmlType type() {
    return GgmlType.F32;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    int i = 0;
    for (; i + LANES <= count; i += LANES) {
      floats(src, srcOffset + 4 * i).intoArray(dst, dstOffset + i);
    }
    for (; i < count; i++) {
      dst[dstOffset + i] = Float.intBitsToFloat(ReferenceDequantizer.int32(src, srcOffset + 4 * i));
    }
  }

  @Override
  public float dot(byte[] src, int srcOffset, float[] x, int xOffset, int count) {
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    int i = 0;
    for (; i + 2 * LANES <= count; i += 2 * LANES) {
      sum0 =
          floats(src, srcOffset + 4 * i).fma(FloatVector.fromArray(FLOATS, x, xOffset + i), sum0);
      sum1 =
          floats(src, srcOffset + 4 * (i + LANES))
              .fma(FloatVector.fromArray(FLOATS, x, xOffset + i + LANES), sum1);
    }
    float sum = Vectors.sum(sum0.add(sum1));
    for (; i < count; i++) {
      sum +=
          Float.intBitsToFloat(ReferenceDequantizer.int32(src, srcOffset + 4 * i)) * x[xOffset + i];
    }
    return sum;
  }

  @Override
  void dots4(
      byte[] src,
      int srcOffset,
      float[] x,
      int x0,
      int x1,
      int x2,
      int x3,
      float[] out,
      int outOffset,
      int outStride,
      int tokens,
      int count) {
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    FloatVector sum2 = FloatVector.zero(FLOATS);
    FloatVector sum3 = FloatVector.zero(FLOATS);
    int i = 0;
    for (; i + LANES <= count; i += LANES) {
      FloatVector weights = floats(src, srcOffset + 4 * i);
      sum0 = weights.fma(FloatVector.fromArray(FLOATS, x, x0 + i), sum0);
      sum1 = weights.fma(FloatVector.fromArray(FLOATS, x, x1 + i), sum1);
      sum2 = weights.fma(FloatVector.fromArray(FLOATS, x, x2 + i), sum2);
      sum3 = weights.fma(FloatVector.fromArray(FLOATS, x, x3 + i), sum3);
    }
    float total0 = Vectors.sum(sum0);
    float total1 = Vectors.sum(sum1);
    float total2 = Vectors.sum(sum2);
    float total3 = Vectors.sum(sum3);
    for (; i < count; i++) {
      float weight = Float.intBitsToFloat(ReferenceDequantizer.int32(src, srcOffset + 4 * i));
      total0 += weight * x[x0 + i];
      total1 += weight * x[x1 + i];
      total2 += weight * x[x2 + i];
      total3 += weight * x[x3 + i];
    }
    store(out, outOffset, outStride, tokens, total0, total1, total2, total3);
  }

  /** 16 little-endian floats at {@code src[at]} (the vector lanes are in memory order). */
  private static FloatVector floats(byte[] src, int at) {
    return ByteVector.fromArray(BYTES_64, src, at).reinterpretAsFloats();
  }
}
