package io.specd.kernels.spec;

import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.KvCache;
import java.util.List;

/**
 * A source of draft trees (Medusa, Clover-2, Kangaroo). The drafter holds the weights (its heads);
 * each request opens a {@link DraftSession} that holds the request's drafting state (recent target
 * hidden states, the drafter's own KV cache). Not thread-safe: the model's owner uses it.
 */
public interface Drafter extends AutoCloseable {

  /** {@code medusa}, {@code clover} or {@code kangaroo}. */
  String name();

  /**
   * Opens the drafting state of one request.
   *
   * @param cache the request's target KV cache (Kangaroo drafts through the target's own layers)
   */
  DraftSession open(KvCache cache);

  /** What the target must return at the prefill for {@link DraftSession#prefilled}. */
  ForwardOptions prefillOptions();

  /** What the target must return when it verifies a proposal of this drafter. */
  ForwardOptions verifyOptions();

  /**
   * Work for a whole batch of two or more sessions before each proposes, done in one pass where the
   * drafter can batch it across sessions: Kangaroo grows every tree of the batch here, level by
   * level (its sessions' {@link DraftSession#propose} then hand over what was grown), Clover-2
   * catches every drafting session's augmenting layers up. Nothing by default.
   *
   * @param batch each session's request, in the batch's order
   */
  default void beforeProposals(List<ProposalRequest> batch) {}

  /** Frees the drafter's weights. */
  @Override
  void close();
}
