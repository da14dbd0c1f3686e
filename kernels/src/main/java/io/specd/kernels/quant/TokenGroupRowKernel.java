package io.specd.kernels.quant;

/**
 * The multi-token product shared by every encoding: tokens are taken in groups of eight, then four,
 * then two, each group by a kernel of the type that decodes each block into registers once and FMAs
 * it into one accumulator per token (two for a pair, whose chains would otherwise be too short to
 * hide the FMA latency); a single token left over takes {@link #dot}.
 *
 * <p>Every group method has the same contract: the row against the activations of its tokens at
 * {@code x[xOffset + t*xStride ..]}, sums stored at {@code out[outOffset + t*outStride]}.
 */
abstract class TokenGroupRowKernel implements RowKernel {
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
    for (; t + 8 <= tokens; t += 8) {
      dots8(
          src,
          srcOffset,
          x,
          xOffset + t * xStride,
          xStride,
          out,
          outOffset + t * outStride,
          outStride,
          count);
    }
    if (t + 4 <= tokens) {
      dots4(
          src,
          srcOffset,
          x,
          xOffset + t * xStride,
          xStride,
          out,
          outOffset + t * outStride,
          outStride,
          count);
      t += 4;
    }
    if (t + 2 <= tokens) {
      dots2(
          src,
          srcOffset,
          x,
          xOffset + t * xStride,
          xStride,
          out,
          outOffset + t * outStride,
          outStride,
          count);
      t += 2;
    }
    if (t < tokens) {
      out[outOffset + t * outStride] = dot(src, srcOffset, x, xOffset + t * xStride, count);
    }
  }

  /** Two tokens. */
  abstract void dots2(
      byte[] src,
      int srcOffset,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int outOffset,
      int outStride,
      int count);

  /** Four tokens. */
  abstract void dots4(
      byte[] src,
      int srcOffset,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int outOffset,
      int outStride,
      int count);

  /** Eight tokens. */
  abstract void dots8(
      byte[] src,
      int srcOffset,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int outOffset,
      int outStride,
      int count);
}
