package io.specd.kernels.llama;

/**
 * A weight matrix held by a backend and applied to host rows: {@code y = x · Wᵀ} with {@code W
 * [outputs, inputs]}. Drafter heads are built from these (their products are the only part of a
 * head whose cost grows with the model); their element-wise glue runs on the host. Not thread-safe.
 */
public interface Linear extends AutoCloseable {

  int inputs();

  int outputs();

  /**
   * {@code y[yOffset + r·outputs + o] = Σ_i x[xOffset + r·inputs + i] · W[o, i]} for every row
   * {@code r < rows}.
   *
   * @param x {@code [rows, inputs]} from {@code xOffset}
   * @param y {@code [rows, outputs]} from {@code yOffset}, overwritten
   */
  void apply(float[] x, int xOffset, int rows, float[] y, int yOffset);

  /** Copies {@code W[output, :]} (the weights one output reads, e.g. a token's LM-head row). */
  void row(int output, float[] destination, int offset);

  @Override
  void close();
}
