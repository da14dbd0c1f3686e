package io.specd.kernels.spec;

import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.KvCache;
import io.specd.policies.spec.Plan;
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
   * Work for a whole batch of two or more sessions before they propose, done in one pass where the
   * drafter can batch it across sessions (Kangaroo: every root's shallow layers); each session
   * still proposes on its own afterwards. Nothing by default.
   *
   * @param sessions the batch's drafting states
   * @param roots each session's root, in the order of {@code sessions}
   * @param plans each session's plan, in the same order
   */
  default void beforeProposals(List<DraftSession> sessions, int[] roots, List<Plan> plans) {}

  /** Frees the drafter's weights. */
  @Override
  void close();
}
