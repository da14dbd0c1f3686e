package io.specd.policies.spec;

import java.util.Arrays;

/**
 * Tallies one request's steps into {@link DecodeStats}: the decoding loop in kernels and the
 * session actor both feed it each step's {@link Outcome} and stage times. Not thread-safe.
 */
public final class StatsRecorder {
  private final int promptTokens;
  private int steps;
  private long drafted;
  private long accepted;
  private long[] acceptedPerDepth = new long[8];
  private long[] draftedPerDepth = new long[8];
  private StageTimes stages = StageTimes.ZERO;

  public StatsRecorder(int promptTokens) {
    this.promptTokens = promptTokens;
  }

  /** Counts one verification step. */
  public void record(Outcome outcome, StageTimes times) {
    int depth = outcome.draftedDepth();
    if (depth > draftedPerDepth.length) {
      draftedPerDepth = Arrays.copyOf(draftedPerDepth, depth);
      acceptedPerDepth = Arrays.copyOf(acceptedPerDepth, depth);
    }
    for (int d = 0; d < depth; d++) {
      draftedPerDepth[d]++;
    }
    for (int d = 0; d < outcome.accepted(); d++) {
      acceptedPerDepth[d]++;
    }
    steps++;
    drafted += outcome.draftedNodes();
    accepted += outcome.accepted();
    stages = stages.plus(times);
  }

  /** Steps recorded so far. */
  public int steps() {
    return steps;
  }

  /**
   * The statistics so far.
   *
   * @param generatedTokens tokens emitted
   * @param prefillNanos time to the first token
   * @param decodeNanos time from the first token to the last
   */
  public DecodeStats stats(int generatedTokens, long prefillNanos, long decodeNanos) {
    int depths = 0;
    while (depths < draftedPerDepth.length && draftedPerDepth[depths] > 0) {
      depths++;
    }
    return new DecodeStats(
        promptTokens,
        generatedTokens,
        steps,
        drafted,
        accepted,
        Arrays.copyOf(acceptedPerDepth, depths),
        Arrays.copyOf(draftedPerDepth, depths),
        prefillNanos,
        decodeNanos,
        stages);
  }
}
