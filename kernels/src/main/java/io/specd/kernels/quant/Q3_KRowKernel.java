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
final class Q3_KRowKernel extends DecodingRowKernel {
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
        sum0 = Vectors.low(values).mul(scale(src, at, 2 * run, d)).fma(load(x, xi), sum0);
        sum1 = Vectors.high(values).mul(scale(src, at, 2 * run + 1, d)).fma(load(x, xi + 16), sum1);
      }
    }
    return Vectors.sum(sum0.add(sum1));
  }

  /** Sub-block scale j times d. */
  private static float scale(byte[] src, int block, int j, float d) {
    return d * (ReferenceDequantizer.q3kScale(src, block + 96, j) - 32);
  }

  private static FloatVector load(float[] x, int at) {
    return FloatVector.fromArray(FLOATS, x, at);
  }
}
