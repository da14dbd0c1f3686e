package io.specd.policies.spec;

/**
 * What one speculative step produced, for the policy to learn from.
 *
 * @param plan the plan the step followed
 * @param draftedNodes draft nodes verified (root excluded)
 * @param draftedDepth depth of the deepest drafted node
 * @param accepted draft tokens accepted (the bonus token excluded)
 * @param lineConfidence top-1 draft probability at each depth of the drafter's main line (the chain
 *     of most likely children from the root), index 0 = depth 1
 * @param lineEntropy entropy (nats) of the draft distribution at each depth of the main line
 * @param lineAccepted how many main-line tokens were accepted (≤ accepted)
 * @param draftNanos time spent drafting
 * @param verifyNanos the rest of the step's time: verification and acceptance, and in a batch what
 *     this sequence waits for besides (the other sequences' drafting, the forwards of other groups)
 * @param batchSize sequences verified together with this one (1 alone)
 * @param batchRows rows the step's verification carried across the batch (this sequence's drafted
 *     nodes and root, and the other sequences')
 */
public record Outcome(
    Plan plan,
    int draftedNodes,
    int draftedDepth,
    int accepted,
    double[] lineConfidence,
    double[] lineEntropy,
    int lineAccepted,
    long draftNanos,
    long verifyNanos,
    int batchSize,
    int batchRows) {

  public Outcome {
    lineConfidence = lineConfidence.clone();
    lineEntropy = lineEntropy.clone();
  }

  @Override
  public double[] lineConfidence() {
    return lineConfidence.clone();
  }

  @Override
  public double[] lineEntropy() {
    return lineEntropy.clone();
  }

  /** Tokens this step committed: the accepted drafts plus the bonus token. */
  public int committed() {
    return accepted + 1;
  }

  /** Wall time of the step. */
  public long stepNanos() {
    return draftNanos + verifyNanos;
  }

  /** This outcome with {@code nanos} as the rest of the step's time beyond its drafting. */
  public Outcome withVerifyNanos(long nanos) {
    return new Outcome(
        plan,
        draftedNodes,
        draftedDepth,
        accepted,
        lineConfidence,
        lineEntropy,
        lineAccepted,
        draftNanos,
        nanos,
        batchSize,
        batchRows);
  }
}
