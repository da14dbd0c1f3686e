package io.specd.kernels.cpu;

import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.SequenceInput;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link JavaModel}'s buffers, sized to the largest batch it has run: activations, per-row RoPE
 * angles and attention limits, and the outputs a {@link ForwardResult} hands out (valid until the
 * next forward). The result object itself is reused while its arrays stay the same.
 */
final class Workspace {
  int rows;
  int batch;
  int[] firstRows = new int[2];
  float[] x = new float[0]; // [N, D] residual stream
  float[] xb = new float[0]; // [N, D] normed input / product output
  float[] q = new float[0]; // [N, H·E]
  float[] k = new float[0]; // [N, K·E]
  float[] v = new float[0]; // [N, K·E]
  float[] attention = new float[0]; // [N, H·E]
  float[] gate = new float[0]; // [N, F]
  float[] up = new float[0]; // [N, F]
  float[] cos = new float[0]; // [N, E/2]
  float[] sin = new float[0]; // [N, E/2]
  int[] limits = new int[0]; // [N]: one past the last cache row each new token sees
  float[] preNorm = new float[0]; // [rows, D]
  float[] postNorm = new float[0]; // [rows, D]
  float[] logits = new float[0]; // [rows, V]
  PagedKvCache[] statelessCaches;
  private float[][] residualStore = new float[0][];
  private float[][] residuals = new float[0][];
  private ForwardResult result;
  private ForwardOptions.Rows resultRows;
  private int[] resultFirstRows;
  private float[][] resultResiduals;

  /** Records the batch's row layout: {@code firstRows[b]} is sequence b's first new token. */
  void layout(List<SequenceInput> sequences) {
    batch = sequences.size();
    if (firstRows.length < batch + 1) {
      firstRows = new int[batch + 1];
    }
    firstRows[0] = 0;
    for (int b = 0; b < batch; b++) {
      firstRows[b + 1] = firstRows[b] + sequences.get(b).size();
    }
    rows = firstRows[batch];
  }

  /** Grows the buffers to {@code n} rows. */
  void fit(LlamaConfig c, int n, ForwardOptions options) {
    x = fit(x, n * c.dim());
    xb = fit(xb, n * c.dim());
    q = fit(q, n * c.queryDim());
    k = fit(k, n * c.kvDim());
    v = fit(v, n * c.kvDim());
    attention = fit(attention, n * c.queryDim());
    gate = fit(gate, n * c.ffnDim());
    up = fit(up, n * c.ffnDim());
    cos = fit(cos, n * c.ropeDimensions() / 2);
    sin = fit(sin, n * c.ropeDimensions() / 2);
    if (limits.length < n) {
      limits = new int[n];
    }
    int outRows = options.rows() == ForwardOptions.Rows.ALL ? n : batch;
    preNorm = fit(preNorm, outRows * c.dim());
    postNorm = fit(postNorm, outRows * c.dim());
    if (options.logits()) {
      logits = fit(logits, outRows * c.vocabularySize());
    }
    if (residualStore.length < options.toLayer() + 1) {
      residualStore = Arrays.copyOf(residualStore, options.toLayer() + 1);
      residuals = new float[options.toLayer() + 1][];
    }
    Arrays.fill(residuals, null);
  }

  /** The buffer for the residual stream after {@code layers} layers. */
  float[] residual(int layers, int size) {
    residualStore[layers] = fit(residualStore[layers], size);
    residuals[layers] = residualStore[layers];
    return residuals[layers];
  }

  /** The result over the outputs just computed (the same object while nothing was resized). */
  ForwardResult result(
      ForwardOptions options, LlamaConfig c, float[] logits, float[] postNorm, float[] preNorm) {
    if (result == null
        || result.logits() != logits
        || result.postNormHidden() != postNorm
        || result.preNormHidden() != preNorm
        || !sameLayout(options)) {
      result =
          new ForwardResult(
              options.rows(),
              firstRows,
              c.vocabularySize(),
              c.dim(),
              logits,
              postNorm,
              preNorm,
              residuals);
      resultRows = options.rows();
      resultFirstRows = firstRows;
      resultResiduals = residuals;
    }
    return result;
  }

  private boolean sameLayout(ForwardOptions options) {
    return resultRows == options.rows()
        && resultFirstRows == firstRows
        && resultResiduals == residuals;
  }

  private static float[] fit(float[] buffer, int size) {
    return buffer == null || buffer.length < size ? new float[size] : buffer;
  }
}
