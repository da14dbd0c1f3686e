package io.specd.kernels.llama;

/**
 * The outputs of a forward pass, on the host. With {@link ForwardOptions.Rows#ALL} there is one row
 * per new token, every sequence's tokens one after another (no padding); with {@link
 * ForwardOptions.Rows#LAST} one row per sequence. Arrays are row-major and may be the backend's
 * reusable buffers: a result is valid until the next forward of the transformer that made it, so
 * callers copy what they keep.
 */
public final class ForwardResult {
  private final ForwardOptions.Rows rows;
  private final int[] firstRows;
  private final int rowOffset;
  private final int vocabularySize;
  private final int dim;
  private final float[] logits;
  private final float[] postNormHidden;
  private final float[] preNormHidden;
  private final float[][] residuals;

  /**
   * @param rows the row layout
   * @param firstRows for each sequence, its first row among all new tokens (its size follows from
   *     the next entry; one more entry than sequences, the last being the total)
   * @param logits {@code [rows, V]} or null
   * @param postNormHidden {@code [rows, D]} or null
   * @param preNormHidden {@code [rows, D]} or null: the residual stream after the last layer run
   * @param residuals {@code [layers + 1][rows · D]}: the residual stream after that many layers,
   *     for the requested counts (other entries null)
   */
  public ForwardResult(
      ForwardOptions.Rows rows,
      int[] firstRows,
      int vocabularySize,
      int dim,
      float[] logits,
      float[] postNormHidden,
      float[] preNormHidden,
      float[][] residuals) {
    this(rows, firstRows, 0, vocabularySize, dim, logits, postNormHidden, preNormHidden, residuals);
  }

  private ForwardResult(
      ForwardOptions.Rows rows,
      int[] firstRows,
      int rowOffset,
      int vocabularySize,
      int dim,
      float[] logits,
      float[] postNormHidden,
      float[] preNormHidden,
      float[][] residuals) {
    this.rows = rows;
    this.firstRows = firstRows;
    this.rowOffset = rowOffset;
    this.vocabularySize = vocabularySize;
    this.dim = dim;
    this.logits = logits;
    this.postNormHidden = postNormHidden;
    this.preNormHidden = preNormHidden;
    this.residuals = residuals;
  }

  /** The row of token {@code token} of sequence {@code sequence} (for LAST: the sequence's row). */
  public int row(int sequence, int token) {
    return rows == ForwardOptions.Rows.ALL
        ? rowOffset + firstRows[sequence] + token
        : rowOffset + sequence;
  }

  /**
   * The outputs of one sequence of the batch, as if it had run alone (a view of the same arrays).
   */
  public ForwardResult sequence(int sequence) {
    int offset = rows == ForwardOptions.Rows.ALL ? firstRows[sequence] : sequence;
    return new ForwardResult(
        rows,
        new int[] {0, firstRows[sequence + 1] - firstRows[sequence]},
        rowOffset + offset,
        vocabularySize,
        dim,
        logits,
        postNormHidden,
        preNormHidden,
        residuals);
  }

  /** {@code [rows, V]} logits, or null if not requested; row {@code r} starts at {@code r · V}. */
  public float[] logits() {
    return logits;
  }

  /** {@code [rows, D]} final-norm outputs (what the LM head reads), or null. */
  public float[] postNormHidden() {
    return postNormHidden;
  }

  /** {@code [rows, D]} residual stream after the last layer run, or null. */
  public float[] preNormHidden() {
    return preNormHidden;
  }

  /** {@code [rows, D]} residual stream after {@code layers} layers (as requested), or null. */
  public float[] residualAfter(int layers) {
    return layers < residuals.length ? residuals[layers] : null;
  }

  public int vocabularySize() {
    return vocabularySize;
  }

  public int dim() {
    return dim;
  }

  /** The offset of row {@code row} in {@link #logits()}. */
  public int logitsOffset(int row) {
    return row * vocabularySize;
  }

  /** The offset of row {@code row} in the hidden-state arrays. */
  public int hiddenOffset(int row) {
    return row * dim;
  }
}
