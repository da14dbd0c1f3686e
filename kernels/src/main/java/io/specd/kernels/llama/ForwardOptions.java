package io.specd.kernels.llama;

import java.util.Arrays;

/**
 * What a forward pass runs and returns.
 *
 * @param fromLayer first layer to run (0 starts from token embeddings; otherwise the caller passes
 *     the residual stream entering this layer)
 * @param toLayer one past the last layer to run (the layer count for a full forward)
 * @param rows which token rows the outputs cover
 * @param logits return logits ({@code toLayer} must be the last layer)
 * @param postNormHidden return the final-norm output (what the LM head reads)
 * @param preNormHidden return the residual stream after the last layer run
 * @param residualAfter also return the residual stream after these many layers (each in {@code
 *     [fromLayer, toLayer]}; 0 means the embeddings)
 */
public record ForwardOptions(
    int fromLayer,
    int toLayer,
    Rows rows,
    boolean logits,
    boolean postNormHidden,
    boolean preNormHidden,
    int[] residualAfter) {

  /** Which rows of the new tokens outputs are returned for. */
  public enum Rows {
    /** Only each sequence's last new token: {@code [batch, …]}. */
    LAST,
    /** Every new token, padded per sequence: {@code [batch * maxTokens, …]}. */
    ALL
  }

  public ForwardOptions {
    if (fromLayer < 0 || toLayer < fromLayer) {
      throw new IllegalArgumentException(
          "invalid layer range [" + fromLayer + ", " + toLayer + ")");
    }
    residualAfter = residualAfter.clone();
    for (int layers : residualAfter) {
      if (layers < fromLayer || layers > toLayer) {
        throw new IllegalArgumentException(
            "residual after " + layers + " layers is outside [" + fromLayer + ", " + toLayer + "]");
      }
    }
  }

  /** Logits of the last token of each sequence (prefill, plain decoding). */
  public static ForwardOptions lastLogits(LlamaConfig config) {
    return new ForwardOptions(0, config.layerCount(), Rows.LAST, true, false, false, new int[0]);
  }

  /** Logits of every new token (tree verification). */
  public static ForwardOptions allLogits(LlamaConfig config) {
    return new ForwardOptions(0, config.layerCount(), Rows.ALL, true, false, false, new int[0]);
  }

  /** The same options returning other rows. */
  public ForwardOptions withRows(Rows newRows) {
    return new ForwardOptions(
        fromLayer, toLayer, newRows, logits, postNormHidden, preNormHidden, residualAfter);
  }

  /** The same options also returning the post-norm and/or pre-norm last hidden states. */
  public ForwardOptions withHidden(boolean postNorm, boolean preNorm) {
    return new ForwardOptions(fromLayer, toLayer, rows, logits, postNorm, preNorm, residualAfter);
  }

  /** The same options starting at layer {@code from} (a partial forward over hidden states). */
  public ForwardOptions withLayers(int from) {
    return new ForwardOptions(
        from, toLayer, rows, logits, postNormHidden, preNormHidden, residualAfter);
  }

  /** The same options also returning the residual stream after {@code layers} layers. */
  public ForwardOptions withResidualAfter(int... layers) {
    return new ForwardOptions(
        fromLayer, toLayer, rows, logits, postNormHidden, preNormHidden, layers);
  }

  /** A partial forward over {@code [from, to)} returning the residual stream at {@code to}. */
  public static ForwardOptions layers(int from, int to, Rows rows) {
    return new ForwardOptions(from, to, rows, false, false, true, new int[0]);
  }

  @Override
  public int[] residualAfter() {
    return residualAfter.clone();
  }

  /** Whether the residual stream after {@code layers} layers is asked for. */
  public boolean wantsResidualAfter(int layers) {
    for (int asked : residualAfter) {
      if (asked == layers) {
        return true;
      }
    }
    return false;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ForwardOptions f
        && f.fromLayer == fromLayer
        && f.toLayer == toLayer
        && f.rows == rows
        && f.logits == logits
        && f.postNormHidden == postNormHidden
        && f.preNormHidden == preNormHidden
        && Arrays.equals(f.residualAfter, residualAfter);
  }

  @Override
  public int hashCode() {
    return fromLayer * 31 + toLayer;
  }
}
