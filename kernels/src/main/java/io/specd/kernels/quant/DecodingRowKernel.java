package io.specd.kernels.quant;

/**
 * The multi-token product shared by every encoding: a row is decoded chunk by chunk (the type's
 * vector {@link #dequantize}) into a thread-local scratch small enough to stay in L1, and each
 * chunk is multiplied with all tokens ({@link FloatDots}), so the decoding work is done once per
 * row whatever the number of tokens. Subclasses add a single-token {@link #dot} that never leaves
 * the registers.
 */
abstract class DecodingRowKernel implements RowKernel {
  /** Values decoded at once: two 256-value super-blocks, 2 KiB of floats. */
  static final int CHUNK_VALUES = 512;

  private static final ThreadLocal<float[]> SCRATCH =
      ThreadLocal.withInitial(() -> new float[CHUNK_VALUES]);

  @Override
  public void dots(
      byte[] src,
      int srcOffset,
      float[] x,
      int xOffset,
      int xStride,
      int tokens,
      float[] out,
      int outOffset,
      int outStride,
      int count) {
    if (tokens == 1 || count == 0) {
      for (int t = 0; t < tokens; t++) {
        out[outOffset + t * outStride] = dot(src, srcOffset, x, xOffset + t * xStride, count);
      }
      return;
    }
    float[] scratch = SCRATCH.get();
    for (int done = 0; done < count; done += CHUNK_VALUES) {
      int values = Math.min(CHUNK_VALUES, count - done);
      dequantize(src, srcOffset + (int) type().byteSize(done), scratch, 0, values);
      FloatDots.dots(
          scratch,
          0,
          x,
          xOffset + done,
          xStride,
          tokens,
          out,
          outOffset,
          outStride,
          values,
          done > 0);
    }
  }
}
