package io.specd.policies.spec;

/**
 * Time spent in each stage of the decoding steps after the prefill, in nanoseconds: propose (the
 * drafter builds its tree), verify (the target's forward over it), accept (picking the path and the
 * next token) and commit (the KV caches keep the path; the drafter updates its state).
 */
public record StageTimes(long propose, long verify, long accept, long commit) {
  public static final StageTimes ZERO = new StageTimes(0, 0, 0, 0);

  /** The sum of two tallies. */
  public StageTimes plus(StageTimes other) {
    return new StageTimes(
        propose + other.propose,
        verify + other.verify,
        accept + other.accept,
        commit + other.commit);
  }
}
