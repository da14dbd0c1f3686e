package io.specd.policies.spec;

/**
 * When a drafter stops extending a draft, judged from the draft distribution at the node it would
 * extend: never (a fixed depth), when the top-1 draft probability falls below a threshold
 * (Kangaroo's confidence exit), or when AdaEDL's entropy-based estimate of the acceptance
 * probability, {@code 1 - sqrt(scale · H(q))}, falls below a threshold.
 *
 * @param kind which rule
 * @param threshold η for {@link Kind#CONFIDENCE}, λ for {@link Kind#ENTROPY}
 * @param scale γ of the entropy bound (unused otherwise)
 */
public record StopRule(Kind kind, double threshold, double scale) {

  /** The kinds of stop rule. */
  public enum Kind {
    NONE,
    CONFIDENCE,
    ENTROPY
  }

  /** Never stop early: draft to the plan's depth. */
  public static final StopRule NONE = new StopRule(Kind.NONE, 0, 0);

  public StopRule {
    if (!(threshold >= 0 && threshold <= 1)) {
      throw new IllegalArgumentException("stop threshold must be in [0, 1], got " + threshold);
    }
    if (!(scale >= 0)) {
      throw new IllegalArgumentException("entropy scale must be >= 0, got " + scale);
    }
  }

  /** Stop when the draft's top-1 probability is below {@code eta}. */
  public static StopRule confidence(double eta) {
    return new StopRule(Kind.CONFIDENCE, eta, 0);
  }

  /** Stop when {@code 1 - sqrt(gamma · entropy) < lambda} (AdaEDL). */
  public static StopRule entropy(double lambda, double gamma) {
    return new StopRule(Kind.ENTROPY, lambda, gamma);
  }

  /** AdaEDL's estimate of the probability that a draft token is accepted. */
  public static double acceptanceEstimate(double entropy, double gamma) {
    return 1 - Math.sqrt(gamma * Math.max(0, entropy));
  }

  /**
   * Whether drafting should stop before extending a node.
   *
   * @param topProbability the largest probability of the draft distribution at the node
   * @param entropy the entropy (nats) of that distribution
   */
  public boolean shouldStop(double topProbability, double entropy) {
    return switch (kind) {
      case NONE -> false;
      case CONFIDENCE -> topProbability < threshold;
      case ENTROPY -> acceptanceEstimate(entropy, scale) < threshold;
    };
  }
}
