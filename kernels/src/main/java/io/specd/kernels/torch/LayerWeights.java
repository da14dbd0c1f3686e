package io.specd.kernels.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.llama.HostLayer;
import io.specd.kernels.llama.LlamaConfig;

/**
 * One decoder layer's weights in the fused layout the forward pass uses. The RMSNorm gains are
 * folded into the rows of the projection that follows them, and the attention scale {@code
 * 1/sqrt(headSize)} into the query columns, so neither costs an op at run time. Trained drafter
 * layers are these tensors themselves (an equivalent parametrisation).
 *
 * @param queryKeyValue {@code [dim, queryDim + 2 kvDim]}: {@code diag(attnNorm) · [Wq/√d | Wk |
 *     Wv]ᵀ}
 * @param output {@code [queryDim, dim]}: {@code Woᵀ}
 * @param gateUp {@code [dim, 2 ffnDim]}: {@code diag(ffnNorm) · [Wgate | Wup]ᵀ}, or null for an
 *     attention-only layer
 * @param down {@code [ffnDim, dim]}: {@code Wdownᵀ}, or null for an attention-only layer
 * @param queryKeyValueBias {@code [queryDim + 2 kvDim]}: {@code [bq/√d | bk | bv]}, or null for a
 *     layer without attention biases
 */
public record LayerWeights(
    NDArray queryKeyValue,
    NDArray output,
    NDArray gateUp,
    NDArray down,
    NDArray queryKeyValueBias) {

  /** Fuses a host layer into device weights in {@code manager}. */
  public static LayerWeights fuse(HostLayer h, LlamaConfig c, NDManager manager) {
    int dim = c.dim();
    int qd = c.queryDim();
    int kvd = c.kvDim();
    int ffn = c.ffnDim();
    float queryScale = (float) (1.0 / Math.sqrt(c.headSize()));
    float[] qkv = new float[dim * (qd + 2 * kvd)];
    fuseTransposed(qkv, qd + 2 * kvd, 0, h.query(), qd, dim, h.attentionNorm(), queryScale);
    fuseTransposed(qkv, qd + 2 * kvd, qd, h.key(), kvd, dim, h.attentionNorm(), 1f);
    fuseTransposed(qkv, qd + 2 * kvd, qd + kvd, h.value(), kvd, dim, h.attentionNorm(), 1f);
    NDArray gateUp = null;
    NDArray down = null;
    if (h.ffnNorm() != null) {
      float[] gu = new float[dim * 2 * ffn];
      fuseTransposed(gu, 2 * ffn, 0, h.gate(), ffn, dim, h.ffnNorm(), 1f);
      fuseTransposed(gu, 2 * ffn, ffn, h.up(), ffn, dim, h.ffnNorm(), 1f);
      gateUp = manager.create(gu, new Shape(dim, 2 * ffn));
      down = manager.create(transpose(h.down(), dim, ffn), new Shape(ffn, dim));
    }
    NDArray bias = null;
    if (h.queryBias() != null) {
      float[] b = new float[qd + 2 * kvd];
      for (int i = 0; i < qd; i++) {
        b[i] = h.queryBias()[i] * queryScale; // the attention scale is folded into the queries
      }
      System.arraycopy(h.keyBias(), 0, b, qd, kvd);
      System.arraycopy(h.valueBias(), 0, b, qd + kvd, kvd);
      bias = manager.create(b, new Shape(qd + 2 * kvd));
    }
    return new LayerWeights(
        manager.create(qkv, new Shape(dim, qd + 2 * kvd)),
        manager.create(transpose(h.output(), dim, qd), new Shape(qd, dim)),
        gateUp,
        down,
        bias);
  }

  /**
   * The host layout of these weights, with unit norm gains (they stay folded in the projections),
   * so that {@code fuse(unfuse(w))} gives {@code w} back.
   */
  public HostLayer unfuse(LlamaConfig c) {
    int dim = c.dim();
    int qd = c.queryDim();
    int kvd = c.kvDim();
    int ffn = c.ffnDim();
    float[] qkv = queryKeyValue.toFloatArray(); // [dim, qd + 2 kvd]
    int width = qd + 2 * kvd;
    float[] ones = new float[dim];
    java.util.Arrays.fill(ones, 1f);
    float unscale = (float) Math.sqrt(c.headSize());
    float[] gateUpHost = gateUp == null ? null : gateUp.toFloatArray();
    float[] bias = queryKeyValueBias == null ? null : queryKeyValueBias.toFloatArray();
    return new HostLayer(
        ones,
        columns(qkv, dim, width, 0, qd, unscale),
        columns(qkv, dim, width, qd, kvd, 1f),
        columns(qkv, dim, width, qd + kvd, kvd, 1f),
        transpose(output.toFloatArray(), qd, dim),
        gateUp == null ? null : ones.clone(),
        gateUp == null ? null : columns(gateUpHost, dim, 2 * ffn, 0, ffn, 1f),
        gateUp == null ? null : columns(gateUpHost, dim, 2 * ffn, ffn, ffn, 1f),
        down == null ? null : transpose(down.toFloatArray(), ffn, dim),
        bias == null ? null : scaled(java.util.Arrays.copyOfRange(bias, 0, qd), unscale),
        bias == null ? null : java.util.Arrays.copyOfRange(bias, qd, qd + kvd),
        bias == null ? null : java.util.Arrays.copyOfRange(bias, qd + kvd, qd + 2 * kvd));
  }

  private static float[] scaled(float[] values, float factor) {
    for (int i = 0; i < values.length; i++) {
      values[i] *= factor;
    }
    return values;
  }

  /** Arrays a trainer updates. */
  public NDArray[] parameters() {
    return gateUp == null
        ? new NDArray[] {queryKeyValue, output}
        : new NDArray[] {queryKeyValue, output, gateUp, down};
  }

  /**
   * Columns {@code [from, from + count)} of a row-major {@code [rows, width]}, as {@code [count,
   * rows]}.
   */
  private static float[] columns(
      float[] matrix, int rows, int width, int from, int count, float scale) {
    float[] out = new float[count * rows];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < count; j++) {
        out[j * rows + r] = matrix[r * width + from + j] * scale;
      }
    }
    return out;
  }

  /**
   * Writes {@code diag(gain) · (scale · W)ᵀ} into columns {@code [column, column + rows)} of a
   * row-major {@code [in, width]} destination ({@code W} is {@code [rows, in]}).
   */
  private static void fuseTransposed(
      float[] destination,
      int width,
      int column,
      float[] weight,
      int rows,
      int in,
      float[] gain,
      float scale) {
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < in; i++) {
        destination[i * width + column + r] = weight[r * in + i] * scale * gain[i];
      }
    }
  }

  /** Row-major {@code [rows, cols]} to {@code [cols, rows]}. */
  public static float[] transpose(float[] matrix, int rows, int cols) {
    float[] out = new float[matrix.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[c * rows + r] = matrix[r * cols + c];
      }
    }
    return out;
  }
}
