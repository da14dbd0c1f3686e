package io.specd.kernels.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.util.HashMap;
import java.util.Map;

/**
 * The outputs of a forward pass, in the manager the caller passed. Rows are laid out as {@link
 * ForwardOptions.Rows} says: {@code [batch, …]} for LAST, {@code [batch * maxTokens, …]} for ALL
 * (row {@code b * maxTokens + i} is token {@code i} of sequence {@code b}; padding rows hold
 * garbage).
 *
 * @param logits {@code [rows, vocab]} or null if not requested
 * @param postNormHidden {@code [rows, dim]} or null
 * @param preNormHidden {@code [rows, dim]} or null
 * @param residuals residual stream {@code [rows, dim]} by number of layers run, for the requested
 *     counts
 * @param batchSize sequences in the batch
 * @param maxTokens new tokens of the longest sequence
 * @param rows the row layout
 */
public record ForwardResult(
    NDArray logits,
    NDArray postNormHidden,
    NDArray preNormHidden,
    Map<Integer, NDArray> residuals,
    int batchSize,
    int maxTokens,
    ForwardOptions.Rows rows) {

  /** The row of token {@code token} of sequence {@code sequence} (for LAST: the sequence's row). */
  public int row(int sequence, int token) {
    return rows == ForwardOptions.Rows.ALL ? sequence * maxTokens + token : sequence;
  }

  /**
   * The outputs of one sequence of the batch, as if it had run alone (views in the same manager;
   * this result itself when the batch has one sequence).
   *
   * @param sequence the sequence's index in the batch
   * @param tokens its new tokens (its rows, without the batch's padding)
   */
  public ForwardResult sequence(int sequence, int tokens) {
    if (batchSize == 1) {
      return this;
    }
    NDIndex rowsOf =
        rows == ForwardOptions.Rows.ALL
            ? new NDIndex("{}:{}", sequence * maxTokens, sequence * maxTokens + tokens)
            : new NDIndex("{}:{}", sequence, sequence + 1);
    Map<Integer, NDArray> ownResiduals = new HashMap<>();
    residuals.forEach((layers, array) -> ownResiduals.put(layers, array.get(rowsOf)));
    return new ForwardResult(
        slice(logits, rowsOf),
        slice(postNormHidden, rowsOf),
        slice(preNormHidden, rowsOf),
        Map.copyOf(ownResiduals),
        1,
        tokens,
        rows);
  }

  private static NDArray slice(NDArray array, NDIndex rowsOf) {
    return array == null ? null : array.get(rowsOf);
  }
}
