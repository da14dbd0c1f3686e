package io.specd.kernels.cpu;

/**
 * A weight matrix {@code W [rows, columns]} ({@code [out, in]}, PyTorch layout) in the encoding the
 * {@code java} backend computes on. Products are split across threads by output rows.
 */
interface WeightMatrix {

  /** Outputs. */
  int rows();

  /** Inputs. */
  int columns();

  /**
   * Output rows a thread's share should be a multiple of (the kernel's natural block of outputs).
   * Shares start at multiples of it, so only the share that ends at {@link #rows} ends in a partial
   * block.
   */
  int grain();

  /**
   * {@code y[yOffset + t·rows + o] = Σ_i W[o, i] · x[xOffset + t·columns + i]} for every token
   * {@code t < tokens} and output {@code o} in {@code [from, to)}. Allocates nothing.
   */
  void multiply(float[] x, int xOffset, int tokens, float[] y, int yOffset, int from, int to);

  /** Copies {@code W[row, :]} (dequantized) to {@code destination[offset…]}. */
  void row(int row, float[] destination, int offset);
}
