package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_K rows: super-blocks of 256 values (f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128
 * bytes of nibbles) in 8 sub-blocks of 32; value = d·sc·q − dmin·m. Sub-block 2j is the low nibbles
 * of packed bytes 32j..32j+31, sub-block 2j+1 their high nibbles.
 *
 * <p>A block is read as 8 runs of 32 values (one 32-byte vector each); a run is two 16-value
 * vectors, each scaled once. The decoding is written out in each loop rather than in a
 * vector-returning helper, and shifts are done on short lanes (see {@link Vectors}).
 */
final class Q4_KRowKernel extends TokenGroupRowKernel {
  private static final int BLOCK_BYTES = 144;

  @Override
  public GgmlType type() {
    return GgmlType.Q4_K;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at);
      float min = Vectors.half(src, at + 2);
      for (int run = 0; run < 8; run++) {
        int to = dstOffset + block * 256 + 32 * run;
        ByteVector values =
            ByteVector.fromArray(BYTES_32, src, at + 16 + 32 * (run / 2))
                .reinterpretAsShorts()
                .lanewise(VectorOperators.LSHR, 4 * (run & 1))
                .reinterpretAsBytes()
                .and((byte) 0x0f);
        float scale = d * ReferenceDequantizer.scaleK4(src, at + 4, run);
        float offset = min * ReferenceDequantizer.minK4(src, at + 4, run);
        Vectors.low(values).mul(scale).sub(offset).intoArray(dst, to);
        Vectors.high(values).mul(scale).sub(offset).intoArray(dst, to + 16);
      }
    }
  }

  @Override
  public float dot(byte[] src, int srcOffset, float[] x, int xOffset, int count) {
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at);
      float min = Vectors.half(src, at + 2);
      for (int run = 0; run < 8; run++) {
        int xi = xOffset + block * 256 + 32 * run;
        ByteVector values =
            ByteVector.fromArray(BYTES_32, src, at + 16 + 32 * (run / 2))
                .reinterpretAsShorts()
                .lanewise(VectorOperators.LSHR, 4 * (run & 1))
                .reinterpretAsBytes()
                .and((byte) 0x0f);
        float scale = d * ReferenceDequantizer.scaleK4(src, at + 4, run);
        float offset = min * ReferenceDequantizer.minK4(src, at + 4, run);
        FloatVector w0 = Vectors.low(values).fma(scale, -offset);
        FloatVector w1 = Vectors.high(values).fma(scale, -offset);
        sum0 = w0.fma(FloatVector.fromArray(FLOATS, x, xi), sum0);
        sum1 = w1.fma(FloatVector.fromArray(FLOATS, x, xi + 16), sum1);
      }
    }
    return Vectors.sum(sum0.add(sum1));
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
    FloatVector sum2 = FloatVector.zero(FLOATS);
    FloatVector sum3 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at);
      float min = Vectors.half(src, at + 2);
      for (int run = 0; run < 8; run++) {
        int xi = block * 256 + 32 * run;
        ByteVector values =
            ByteVector.fromArray(BYTES_32, src, at + 16 + 32 * (run / 2))
                .reinterpretAsShorts()
                .lanewise(VectorOperators.LSHR, 4 * (run & 1))
                .reinterpretAsBytes()
                .and((byte) 0x0f);
        float scale = d * ReferenceDequantizer.scaleK4(src, at + 4, run);
        float offset = min * ReferenceDequantizer.minK4(src, at + 4, run);
        FloatVector w0 = Vectors.low(values).fma(scale, -offset);
        FloatVector w1 = Vectors.high(values).fma(scale, -offset);
        sum0 = w0.fma(FloatVector.fromArray(FLOATS, x, x0 + xi), sum0);
        sum1 = w1.fma(FloatVector.fromArray(FLOATS, x, x0 + xi + 16), sum1);
        sum2 = w0.fma(FloatVector.fromArray(FLOATS, x, x1 + xi), sum2);
        sum3 = w1.fma(FloatVector.fromArray(FLOATS, x, x1 + xi + 16), sum3);
      }
    }
    out[outOffset] = Vectors.sum(sum0.add(sum1));
    out[outOffset + outStride] = Vectors.sum(sum2.add(sum3));
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
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at);
      float min = Vectors.half(src, at + 2);
      for (int run = 0; run < 8; run++) {
        int xi = block * 256 + 32 * run;
        ByteVector values =
            ByteVector.fromArray(BYTES_32, src, at + 16 + 32 * (run / 2))
                .reinterpretAsShorts()
                .lanewise(VectorOperators.LSHR, 4 * (run & 1))
                .reinterpretAsBytes()
                .and((byte) 0x0f);
        float scale = d * ReferenceDequantizer.scaleK4(src, at + 4, run);
        float offset = min * ReferenceDequantizer.minK4(src, at + 4, run);
        FloatVector w0 = Vectors.low(values).fma(scale, -offset);
        FloatVector w1 = Vectors.high(values).fma(scale, -offset);
        sum0 = w0.fma(FloatVector.fromArray(FLOATS, x, x0 + xi), sum0);
        sum0 = w1.fma(FloatVector.fromArray(FLOATS, x, x0 + xi + 16), sum0);
        sum1 = w0.fma(FloatVector.fromArray(FLOATS, x, x1 + xi), sum1);
        sum1 = w1.fma(FloatVector.fromArray(FLOATS, x, x1 + xi + 16), sum1);
        sum2 = w0.fma(FloatVector.fromArray(FLOATS, x, x2 + xi), sum2);
        sum2 = w1.fma(FloatVector.fromArray(FLOATS, x, x2 + xi + 16), sum2);
        sum3 = w0.fma(FloatVector.fromArray(FLOATS, x, x3 + xi), sum3);
        sum3 = w1.fma(FloatVector.fromArray(FLOATS, x, x3 + xi + 16), sum3);
      }
    }
    out[outOffset] = Vectors.sum(sum0);
    out[outOffset + outStride] = Vectors.sum(sum1);
    out[outOffset + 2 * outStride] = Vectors.sum(sum2);
    out[outOffset + 3 * outStride] = Vectors.sum(sum3);
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
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at);
      float min = Vectors.half(src, at + 2);
      for (int run = 0; run < 8; run++) {
        int xi = block * 256 + 32 * run;
        ByteVector values =
            ByteVector.fromArray(BYTES_32, src, at + 16 + 32 * (run / 2))
                .reinterpretAsShorts()
                .lanewise(VectorOperators.LSHR, 4 * (run & 1))
                .reinterpretAsBytes()
                .and((byte) 0x0f);
        float scale = d * ReferenceDequantizer.scaleK4(src, at + 4, run);
        float offset = min * ReferenceDequantizer.minK4(src, at + 4, run);
        FloatVector w0 = Vectors.low(values).fma(scale, -offset);
        FloatVector w1 = Vectors.high(values).fma(scale, -offset);
        sum0 = w0.fma(FloatVector.fromArray(FLOATS, x, x0 + xi), sum0);
        sum0 = w1.fma(FloatVector.fromArray(FLOATS, x, x0 + xi + 16), sum0);
        sum1 = w0.fma(FloatVector.fromArray(FLOATS, x, x1 + xi), sum1);
        sum1 = w1.fma(FloatVector.fromArray(FLOATS, x, x1 + xi + 16), sum1);
        sum2 = w0.fma(FloatVector.fromArray(FLOATS, x, x2 + xi), sum2);
        sum2 = w1.fma(FloatVector.fromArray(FLOATS, x, x2 + xi + 16), sum2);
        sum3 = w0.fma(FloatVector.fromArray(FLOATS, x, x3 + xi), sum3);
        sum3 = w1.fma(FloatVector.fromArray(FLOATS, x, x3 + xi + 16), sum3);
        sum4 = w0.fma(FloatVector.fromArray(FLOATS, x, x4 + xi), sum4);
        sum4 = w1.fma(FloatVector.fromArray(FLOATS, x, x4 + xi + 16), sum4);
        sum5 = w0.fma(FloatVector.fromArray(FLOATS, x, x5 + xi), sum5);
        sum5 = w1.fma(FloatVector.fromArray(FLOATS, x, x5 + xi + 16), sum5);
        sum6 = w0.fma(FloatVector.fromArray(FLOATS, x, x6 + xi), sum6);
        sum6 = w1.fma(FloatVector.fromArray(FLOATS, x, x6 + xi + 16), sum6);
        sum7 = w0.fma(FloatVector.fromArray(FLOATS, x, x7 + xi), sum7);
        sum7 = w1.fma(FloatVector.fromArray(FLOATS, x, x7 + xi + 16), sum7);
      }
    }
    out[outOffset] = Vectors.sum(sum0);
    out[outOffset + outStride] = Vectors.sum(sum1);
    out[outOffset + 2 * outStride] = Vectors.sum(sum2);
    out[outOffset + 3 * outStride] = Vectors.sum(sum3);
    out[outOffset + 4 * outStride] = Vectors.sum(sum4);
    out[outOffset + 5 * outStride] = Vectors.sum(sum5);
    out[outOffset + 6 * outStride] = Vectors.sum(sum6);
    out[outOffset + 7 * outStride] = Vectors.sum(sum7);
  }
}
