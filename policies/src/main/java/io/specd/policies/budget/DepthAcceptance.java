package io.specd.policies.budget;

/**
 * How far drafts survive verification, estimated with exponential forgetting: for each depth d, the
 * probability that some draft token at depth d is accepted given that d - 1 were, counted over the
 * steps that drafted at least d deep and accepted d - 1 tokens. A depth not yet measured borrows
 * the estimate of the depth above it through one pseudo-observation (0.5 for depth 1), so a deeper
 * draft is assumed to do as well as the deepest one seen until it has been tried. Evidence, the
 * pseudo-observation included, ages with every step, drafted or not: the estimates stay where they
 * are while nothing is drafted, and the next draft after a long pause weighs as much as all that
 * came before it. Not thread-safe.
 */
final class DepthAcceptance {
  private static final double FIRST_DEPTH_PRIOR = 0.5;

  /**
   * Below this weight of all the evidence every weight is scaled up: their ratios, and so the
   * estimates, stay, and the next draft still weighs as much as all before it. The prior alone does
   * not decide it: it decays below this after ~11,000 steps of drafting while the drafts keep the
   * evidence at ~50 steps' worth, and scaling that up made every later draft weigh nothing (the
   * estimates froze for the rest of the server's life, carried on by the drafter's memory).
   */
  private static final double RESCALE_BELOW = 1e-100;

  /**
   * The prior's weight decays no lower: a negligible pseudo-observation that a depth whose own
   * evidence has decayed away (or was never seen) falls back on, kept clear of subnormal numbers,
   * where its products round to 0 or to itself.
   */
  private static final double LEAST_PRIOR_WEIGHT = 1e-150;

  private final double[] reached;
  private final double[] accepted;
  private double priorWeight = 1;

  /**
   * @param maxDepth the deepest depth tracked
   */
  DepthAcceptance(int maxDepth) {
    this.reached = new double[maxDepth];
    this.accepted = new double[maxDepth];
  }

  private DepthAcceptance(DepthAcceptance from) {
    this.reached = from.reached.clone();
    this.accepted = from.accepted.clone();
    this.priorWeight = from.priorWeight;
  }

  DepthAcceptance copy() {
    return new DepthAcceptance(this);
  }

  int maxDepth() {
    return reached.length;
  }

  /**
   * Records a verified draft.
   *
   * @param draftedDepth depth of the deepest drafted node
   * @param acceptedTokens draft tokens accepted
   * @param discount weight kept by earlier drafts
   */
  void observe(int draftedDepth, int acceptedTokens, double discount) {
    decay(discount);
    int deepest = Math.min(Math.min(draftedDepth, reached.length), acceptedTokens + 1);
    for (int d = 1; d <= deepest; d++) {
      reached[d - 1]++;
      if (acceptedTokens >= d) {
        accepted[d - 1]++;
      }
    }
  }

  /**
   * Ages the evidence by one step without a draft of this kind, so that estimates made long ago
   * weigh little against the next draft.
   */
  void decay(double discount) {
    // every draft reaches depth 1: its weight and the prior's are all the evidence
    double evidence = priorWeight + reached[0];
    double factor = evidence < RESCALE_BELOW ? discount / RESCALE_BELOW : discount;
    priorWeight = Math.max(LEAST_PRIOR_WEIGHT, priorWeight * factor);
    for (int d = 0; d < reached.length; d++) {
      reached[d] *= factor;
      accepted[d] *= factor;
    }
  }

  /** Index d - 1 holds the probability that the first d draft tokens are all accepted. */
  double[] survival() {
    double[] survival = new double[reached.length];
    double prior = FIRST_DEPTH_PRIOR;
    double all = 1;
    for (int d = 0; d < reached.length; d++) {
      double rate = (accepted[d] + priorWeight * prior) / (reached[d] + priorWeight);
      all *= rate;
      survival[d] = all;
      prior = rate;
    }
    return survival;
  }
}
