package io.specd.kernels.torch;

import ai.djl.ndarray.NDArray;
import io.specd.kernels.llama.ForwardOptions;
import java.util.Map;

/**
 * The outputs of a {@link TorchForward} pass, in the manager the caller passed. Rows are padded per
 * sequence: {@code [batch, …]} for LAST, {@code [batch * maxTokens, …]} for ALL (row {@code b *
 * maxTokens + i} is token {@code i} of sequence {@code b}; padding rows hold garbage).
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
public record TorchOutputs(
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
}
