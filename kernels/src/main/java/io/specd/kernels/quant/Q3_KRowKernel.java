package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;

import io.specd.kernels.format.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q3_K rows: super-blocks of 256 values (32 bytes of high bits, 64 bytes of 2-bit quants, 12 bytes
 * of 6-bit scales, f16 d) in 16 sub-blocks of 16; value = d·(sc − 32)·(q − 4) with q's third bit
 * from the high-bit mask. Run r (0–7) is bits 2(r mod 4) of the 32 packed bytes of half r/4,
 * completed by bit r of the 32 mask bytes.
 *
 * <p>A block is read as 8 runs of 32 values (one 32-byte vector each); a run is two 16-value
 * vectors, each scaled once. Two things keep C2 from boxing vectors (a 10x slowdown, measured): the
 * decoding is written out in each loop rather than in a vector-returning helper (C2 does not inline
 * a helper that is hot elsewhere or, at a cold call site, over 35 bytecodes), and shifts by a
 * run-dependent count are done on int lanes, since bytes have no variable-count shift intrinsic;
 * the mask that follows drops the bits shifted in from the neighbouring byte.
 */
final class Q3_KRowKernel extends FourTokenRowKernel {
  private static final int BLOCK_BYTES = 110;

  @Override
  public GgmlType type() {
    return GgmlType.Q3_K;
  }

  @Override
  public void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at + 108);
      for (int run = 0; run < 8; run++) {
        int to = dstOffset + block * 256 + 32 * run;
        ByteVector high =
            ByteVector.fromArray(BYTES_32, src, at)
                .reinterpretAsInts()
                .lanewise(VectorOperators.LSHR, run)
                .reinterpretAsBytes()
                .and((byte) 1)
                .lanewise(VectorOperators.LSHL, 2);
        ByteVector values =
            ByteVector.fromArray(BYTES_32, src, at + 32 + 32 * (run / 4))
                .reinterpretAsInts()
                .lanewise(VectorOperators.LSHR, 2 * (run % 4))
                .reinterpretAsBytes()
                .and((byte) 3)
                .or(high)
                .sub((byte) 4);
        Vectors.low(values).mul(scale(src, at, 2 * run, d)).intoArray(dst, to);
        Vectors.high(values).mul(scale(src, at, 2 * run + 1, d)).intoArray(dst, to + 16);
      }
    }
  }

  @Override
  public float dot(byte[] src, int srcOffset, float[] x, int xOffset, int count) {
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at + 108);
      for (int run = 0; run < 8; run++) {
        int xi = xOffset + block * 256 + 32 * run;
        ByteVector high =
            ByteVector.fromArray(BYTES_32, src, at)
                .reinterpretAsInts()
                .lanewise(VectorOperators.LSHR, run)
                .reinterpretAsBytes()
                .and((byte) 1)
                .lanewise(VectorOperators.LSHL, 2);
        ByteVector values =
            ByteVector.fromArray(BYTES_32, src, at + 32 + 32 * (run / 4))
                .reinterpretAsInts()
                .lanewise(VectorOperators.LSHR, 2 * (run % 4))
                .reinterpretAsBytes()
                .and((byte) 3)
                .or(high)
                .sub((byte) 4);
        FloatVector w0 = Vectors.low(values).mul(scale(src, at, 2 * run, d));
        FloatVector w1 = Vectors.high(values).mul(scale(src, at, 2 * run + 1, d));
        sum0 = w0.fma(FloatVector.fromArray(FLOATS, x, xi), sum0);
        sum1 = w1.fma(FloatVector.fromArray(FLOATS, x, xi + 16), sum1);
      }
    }
    return Vectors.sum(sum0.add(sum1));
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
    for (int block = 0; block < count / 256; block++) {
      int at = srcOffset + block * BLOCK_BYTES;
      float d = Vectors.half(src, at + 108);
      for (int run = 0; run < 8; run++) {
        int xi = block * 256 + 32 * run;
        ByteVector high =
            ByteVector.fromArray(BYTES_32, src, at)
                .reinterpretAsInts()
                .lanewise(VectorOperators.LSHR, run)
                .reinterpretAsBytes()
                .and((byte) 1)
                .lanewise(VectorOperators.LSHL, 2);
        ByteVector values =
            ByteVector.fromArray(BYTES_32, src, at + 32 + 32 * (run / 4))
                .reinterpretAsInts()
                .lanewise(VectorOperators.LSHR, 2 * (run % 4))
                .reinterpretAsBytes()
                .and((byte) 3)
                .or(high)
                .sub((byte) 4);
        FloatVector w0 = Vectors.low(values).mul(scale(src, at, 2 * run, d));
        FloatVector w1 = Vectors.high(values).mul(scale(src, at, 2 * run + 1, d));
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
    store(
        out,
        outOffset,
        outStride,
        tokens,
        Vectors.sum(sum0),
        Vectors.sum(sum1),
        Vectors.sum(sum2),
        Vectors.sum(sum3));
  }

  /** Sub-block scale j times d. */
  private static float scale(byte[] src, int block, int j, float d) {
    return d * (ReferenceDequantizer.q3kScale(src, block + 96, j) - 32);
  }

  private static FloatVector load(float[] x, int at) {
    return FloatVector.fromArray(FLOATS, x, at);
  }
}
