package io.specd.kernels.llama;

import java.util.List;

/**
 * A backend's LLaMA decoder: the target model (embedding, layers, final norm, LM head) or a
 * drafter's decoder stack (layers only). One entry point runs prefill, decoding and tree
 * verification, for one sequence or a ragged batch of them, over any range of layers. Not
 * thread-safe: one owner (the device actor, or a command-line run) uses it at a time.
 */
public interface Transformer extends AutoCloseable {

  LlamaConfig config();

  /**
   * Runs layers {@code [options.fromLayer(), options.toLayer())} over a batch of sequences, writing
   * each new token's keys and values into its cache at rows {@code [start, start + n)}. The caches'
   * committed lengths do not change (see {@link KvCache#commit}).
   *
   * @param sequences the batch (all caches from one pool of this transformer, or all without one)
   * @param inputHidden {@code [Σn, D]}: the residual stream entering {@code fromLayer}, every
   *     sequence's new tokens one after another (only the first {@code Σn·D} values are read),
   *     required when {@code fromLayer} is not 0, else null
   * @param options what to run and return
   * @return the requested outputs; they may live in buffers this transformer reuses, so they are
   *     valid until its next forward
   */
  ForwardResult forward(List<SequenceInput> sequences, float[] inputHidden, ForwardOptions options);

  /**
   * Key/value memory for up to {@code slots} sequences of up to {@code capacity} positions each.
   */
  KvCachePool newCachePool(int slots, int capacity);

  /** The LM head {@code [vocab, dim]} as a matrix, or null for a decoder stack. */
  Linear lmHead();

  /** The final RMSNorm gain {@code [dim]}, or null for a decoder stack. */
  float[] outputNorm();

  /** Frees the weights. */
  @Override
  void close();
}
