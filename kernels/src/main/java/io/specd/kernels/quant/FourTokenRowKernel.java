package io.specd.kernels.quant;

/**
 * The multi-token product shared by every encoding: tokens are taken four at a time by the type's
 * {@link #dots4}, which decodes each block into registers once and FMAs it into one accumulator per
 * token. A last group of two or three tokens runs through {@code dots4} too, its missing tokens
 * repeating the last one's activations (their sums are not stored); a single token left over takes
 * {@link #dot}.
 */
abstract class FourTokenRowKernel implements RowKernel {
  @Override
  public final void dots(
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
    int t = 0;
    for (; t + 4 <= tokens; t += 4) {
      int x0 = xOffset + t * xStride;
      dots4(
          src,
          srcOffset,
          x,
          x0,
          x0 + xStride,
          x0 + 2 * xStride,
          x0 + 3 * xStride,
          out,
          outOffset + t * outStride,
          outStride,
          4,
          count);
    }
    int rest = tokens - t;
    int x0 = xOffset + t * xStride;
    if (rest == 1) {
      out[outOffset + t * outStride] = dot(src, srcOffset, x, x0, count);
    } else if (rest > 1) {
      int x1 = x0 + xStride;
      int x2 = rest > 2 ? x1 + xStride : x1;
      dots4(
          src,
          srcOffset,
          x,
          x0,
          x1,
          x2,
          x2,
          out,
          outOffset + t * outStride,
          outStride,
          rest,
          count);
    }
  }

  /**
   * The row against the activations at {@code x[x0..]}, {@code x[x1..]}, {@code x[x2..]} and {@code
   * x[x3..]}; stores the first {@code tokens} (2 to 4) sums {@code outStride} apart.
   */
  abstract void dots4(
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
      int count);

  /** Stores the first {@code tokens} of four sums. */
  static void store(
      float[] out,
      int outOffset,
      int outStride,
      int tokens,
      float sum0,
      float sum1,
      float sum2,
      float sum3) {
    out[outOffset] = sum0;
    out[outOffset + outStride] = sum1;
    if (tokens > 2) {
      out[outOffset + 2 * outStride] = sum2;
    }
    if (tokens > 3) {
      out[outOffset + 3 * outStride] = sum3;
    }
  }
}
