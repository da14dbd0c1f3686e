package io.specd.policies.spec;

/**
 * Decides how each step drafts and learns from what verification shows. One instance serves one
 * request (its posterior); instances of learning policies share a prior through their factory. Not
 * thread-safe: a request's steps are sequential.
 */
public interface DraftPolicy {

  /** The policy's name in reports ({@code static-4}, {@code adaedl}, {@code bandit}, …). */
  String name();

  /** The plan for the next step. */
  Plan plan(DraftContext context);

  /** Learns from a finished step. */
  void reward(Outcome outcome);
}
