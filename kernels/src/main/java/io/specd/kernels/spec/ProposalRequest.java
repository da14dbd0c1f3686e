package io.specd.kernels.spec;

import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.util.random.RandomGenerator;

/**
 * What one session of a batch asks its drafter for this step: {@link DraftSession#propose}'s
 * arguments, for drafters that grow a batch's trees together ({@link Drafter#beforeProposals}).
 *
 * @param session the session's drafting state
 * @param root the last token the target chose (node 0 of the tree)
 * @param plan how deep and wide to draft, fitted to what the session's cache can still hold
 * @param sampling the request's sampling
 * @param random the request's generator
 */
public record ProposalRequest(
    DraftSession session, int root, Plan plan, SamplingParams sampling, RandomGenerator random) {

  /** The session's proposal for this request. */
  public Proposal propose() {
    return session.propose(root, plan, sampling, random);
  }
}
