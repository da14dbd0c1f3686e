package io.specd.kernels.heads.clover;

import io.specd.kernels.cpu.VectorMath;
import io.specd.kernels.llama.Backend;
import io.specd.kernels.llama.Linear;

/**
 * Clover-2's attention decoder block for inference: fuses a state x with a token embedding y
 * through an "attention" over that single key, per head g: {@code out = x + Σ_g cos(q_g, k_g) ·
 * v_g}, with {@code q = RMSNorm(x)·Wqᵀ + bq}, {@code k = y·Wkᵀ + bk}, {@code v = y·Wvᵀ + bv}. No
 * softmax (one key), no output projection. The key/value half depends only on the token, so it is
 * tabulated for the whole vocabulary at load ({@link #keysValues}); the query product runs on the
 * backend, the rest on the host. The trainable form is {@code train.ResidualAttention}.
 */
final class CosineAttention implements AutoCloseable {
  private final Linear query; // [D, D]: Wq · diag(gain)
  private final float[] queryBias;
  private final int dim;
  private final int heads;
  private final float eps;
  private float[] queries = new float[0]; // [rows, D]

  CosineAttention(
      CloverCheckpoint.Attention tensors, int dim, int heads, float eps, Backend backend) {
    this.dim = dim;
    this.heads = heads;
    this.eps = eps;
    float[] folded = tensors.query().clone();
    for (int o = 0; o < dim; o++) {
      VectorMath.multiply(folded, o * dim, tensors.gain(), 0, dim, folded, o * dim);
    }
    this.query = backend.linear(folded, dim, dim);
    this.queryBias = tensors.queryBias();
  }

  /**
   * A block's keys (normalised per head) and values of token embeddings, {@code [rows, 2D]}: {@code
   * [k̂ | v]} (what {@link #apply} reads; tabulated once for the vocabulary).
   *
   * @param embeddings {@code [rows, D]}
   */
  static float[] keysValues(
      CloverCheckpoint.Attention tensors,
      float[] embeddings,
      int rows,
      int dim,
      int heads,
      Backend backend) {
    float[] keyValue = new float[2 * dim * dim]; // [2D, D]: [Wk; Wv]
    System.arraycopy(tensors.key(), 0, keyValue, 0, dim * dim);
    System.arraycopy(tensors.value(), 0, keyValue, dim * dim, dim * dim);
    float[] out = new float[rows * 2 * dim];
    try (Linear product = backend.linear(keyValue, 2 * dim, dim)) {
      product.apply(embeddings, 0, rows, out, 0);
    }
    int headSize = dim / heads;
    for (int r = 0; r < rows; r++) {
      int row = r * 2 * dim;
      VectorMath.add(out, row, tensors.keyBias(), 0, dim);
      VectorMath.add(out, row + dim, tensors.valueBias(), 0, dim);
      for (int g = 0; g < heads; g++) {
        VectorMath.normalize(out, row + g * headSize, headSize);
      }
    }
    return out;
  }

  /**
   * Applies the block to rows of states.
   *
   * @param x {@code [rows, D]} states from {@code xOffset}
   * @param table a {@link #keysValues} table (rows of {@code tableWidth}, {@code [k̂ | v]} first)
   * @param tokens the token whose table row each state fuses with
   * @param out {@code [rows, D]}, overwritten (may not be x)
   */
  void apply(
      float[] x, int xOffset, int rows, float[] table, int tableWidth, int[] tokens, float[] out) {
    if (queries.length < rows * dim) {
      queries = new float[rows * dim];
    }
    for (int r = 0; r < rows; r++) {
      VectorMath.rmsNorm(x, xOffset + r * dim, dim, null, eps, out, r * dim);
    }
    query.apply(out, 0, rows, queries, 0);
    int headSize = dim / heads;
    System.arraycopy(x, xOffset, out, 0, rows * dim);
    for (int r = 0; r < rows; r++) {
      int q = r * dim;
      VectorMath.add(queries, q, queryBias, 0, dim);
      int kv = tokens[r] * tableWidth;
      for (int g = 0; g < heads; g++) {
        int h = g * headSize;
        VectorMath.normalize(queries, q + h, headSize);
        float cosine = VectorMath.dot(queries, q + h, table, kv + h, headSize);
        VectorMath.addScaled(out, q + h, table, kv + dim + h, cosine, headSize);
      }
    }
  }

  @Override
  public void close() {
    query.close();
  }
}
