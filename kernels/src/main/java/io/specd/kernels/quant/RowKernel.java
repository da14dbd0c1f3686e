package io.specd.kernels.quant;

import io.specd.kernels.format.GgmlType;

/**
 * How one tensor type encodes a row, and the products the CPU backend computes on it directly on
 * the encoded blocks ("dequantization in registers"): the weights stay in their file encoding and
 * are decoded into vector registers only for the product.
 *
 * <p>Rows come as bytes copied from a {@code TensorBytes} (usually into a thread-local scratch);
 * {@code srcOffset} must be on a block boundary and {@code count} whole blocks ({@link
 * GgmlType#blockSize()} values; any count for F32, F16 and BF16). Activations and outputs are
 * float32. Implementations are stateless singletons, safe for concurrent use; they allocate nothing
 * per call (scratch space is thread-local and sized once). They are written for 512-bit vectors
 * ({@code FloatVector.SPECIES_512}).
 */
public interface RowKernel {
  /** The encoding this kernel reads. */
  GgmlType type();

  /**
   * Dequantizes {@code count} values (whole blocks) of an encoded row starting at {@code
   * src[srcOffset]} into {@code dst[dstOffset..dstOffset+count)}, bit-identical to ggml's reference
   * ({@link ReferenceDequantizer}).
   */
  void dequantize(byte[] src, int srcOffset, float[] dst, int dstOffset, int count);

  /**
   * The product {@code Σ_i W[i]·x[xOffset+i]} over {@code count} values (whole blocks) of the
   * encoded row at {@code src[srcOffset]}. The summation order differs from a scalar loop, so the
   * result matches one to float rounding.
   */
  float dot(byte[] src, int srcOffset, float[] x, int xOffset, int count);

  /**
   * {@code rows} consecutive rows ({@code rowBytes} apart from {@code src[srcOffset]}) against one
   * activation vector: {@code out[outOffset + r] = Σ_i W_r[i]·x[xOffset+i]}. Kernels that can share
   * the activation loads between rows override it; by default it is {@link #dot} per row.
   */
  default void dotRows(
      byte[] src,
      int srcOffset,
      int rowBytes,
      int rows,
      float[] x,
      int xOffset,
      float[] out,
      int outOffset,
      int count) {
    for (int r = 0; r < rows; r++) {
      out[outOffset + r] = dot(src, srcOffset + r * rowBytes, x, xOffset, count);
    }
  }

  /**
   * {@code rows} consecutive rows ({@code rowBytes} apart from {@code src[srcOffset]}) against
   * {@code tokens} activation vectors: {@code out[outOffset + r + t*outStride] = Σ_i
   * W_r[i]·x[xOffset + t*xStride + i]}. Kernels that can share the activation loads between rows
   * override it; by default it is {@link #dots} per row.
   */
  default void dotsRows(
      byte[] src,
      int srcOffset,
      int rowBytes,
      int rows,
      float[] x,
      int xOffset,
      int xStride,
      int tokens,
      float[] out,
      int outOffset,
      int outStride,
      int count) {
    for (int r = 0; r < rows; r++) {
      dots(
          src,
          srcOffset + r * rowBytes,
          x,
          xOffset,
          xStride,
          tokens,
          out,
          outOffset + r,
          outStride,
          count);
    }
  }

  /**
   * The same row against {@code tokens} activation vectors in one pass over the row: {@code
   * out[outOffset + t*outStride] = Σ_i W[i]·x[xOffset + t*xStride + i]} for t in [0, tokens).
   * Register-blocked over tokens: four at a time, each block is decoded into registers once and
   * FMA'd into one accumulator per token.
   *
   * <p>The cost is dominated by loading the activations ({@code tokens × count} floats per call),
   * so callers should tile: run a batch of rows over one column range at a time (e.g. 512 values),
   * so that the tokens' activations of that range stay in L1 across the rows, and add the partial
   * products. {@code RowKernelBenchmark} measures both ways.
   *
   * @param x activations {@code [tokens, xStride]} from {@code xOffset}
   * @param out receives one value per token, {@code outStride} apart
   */
  void dots(
      byte[] src,
      int srcOffset,
      float[] x,
      int xOffset,
      int xStride,
      int tokens,
      float[] out,
      int outOffset,
      int outStride,
      int count);

  /**
   * The kernel of a type.
   *
   * @throws IllegalArgumentException if specd does not compute on that type ({@link
   *     GgmlType#isSupported()})
   */
  static RowKernel of(GgmlType type) {
    return RowKernels.of(type);
  }
}
