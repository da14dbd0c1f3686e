package io.specd.kernels.spec;

import io.specd.kernels.llama.ForwardResult;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.util.random.RandomGenerator;

/**
 * One request's drafting state. The decoding loop calls, in order: {@link #prefilled} once per part
 * of the prompt (the whole prompt, or its parts in order when the prefill is chunked), then per
 * step {@link #propose} and {@link #accepted}; {@link #close} frees the state. All tensor work
 * happens on the caller's thread, on the model's backend.
 */
public interface DraftSession extends AutoCloseable {

  /**
   * Takes what the drafter needs from the forward pass over prompt positions {@code [from, to)}.
   *
   * @param prompt the whole prompt (its positions before {@code to} now committed in the target
   *     cache)
   * @param from the part's first position (0 for the first part)
   * @param to the position after the part's last ({@code prompt.length} for the last part)
   * @param result the part's outputs ({@link Drafter#prefillOptions}), row {@code i} for position
   *     {@code from + i}
   * @param next the token after the part: {@code prompt[to]}, or after the last part the first
   *     generated token (not yet in the cache)
   */
  void prefilled(int[] prompt, int from, int to, ForwardResult result, int next);

  /**
   * Proposes a draft tree rooted at {@code root}.
   *
   * @param root the last token the target chose (node 0 of the tree)
   * @param plan how deep and wide to draft; {@link Plan#speculate()} false asks for the root alone
   * @param sampling the request's sampling (drafts are warped the same way as the target)
   * @param random the request's generator (only sampled chains draw from it)
   */
  Proposal propose(int root, Plan plan, SamplingParams sampling, RandomGenerator random);

  /**
   * Whether a draft from {@code root} is at hand without drafting work (prompt lookup's match), and
   * how often such drafts have been accepted: the planner prices it by its verification alone.
   *
   * @return the acceptance rate expected of each of its tokens, or 0 when there is none
   */
  default double freeDraft(int root) {
    return 0;
  }

  /**
   * Learns which path the target accepted (the target cache already committed it) and updates the
   * drafting state for the next step.
   *
   * @param proposal what was proposed
   * @param acceptance the accepted path and the next root
   * @param verification this sequence's verification outputs ({@link Drafter#verifyOptions})
   */
  void accepted(Proposal proposal, Acceptance acceptance, ForwardResult verification);

  /** Frees the request's drafting state. Idempotent. */
  @Override
  void close();
}
