package io.specd.policies.adaedl;

import io.specd.policies.DraftShape;
import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;

/**
 * AdaEDL-style early draft stopping (Agrawal, Jeon, Lee, arXiv 2410.18351): every step drafts up to
 * the shape's maximum depth and the drafter stops extending a node when the entropy-based
 * acceptance estimate of its token, {@code β̂ = 1 - sqrt(γ·H(q))}, falls below λ (a {@link
 * StopRule.Kind#ENTROPY} rule). The stopping criterion is the paper's.
 *
 * <p><b>The λ update is ours, not the paper's.</b> The paper adapts λ online from observed
 * acceptance, but its Algorithm 1 could not be retrieved while this was written, so this class
 * calibrates λ by a documented rule of its own: after each step it records, for every main-line
 * draft token up to and including the first rejected one, the pair (β̂ of that token, accepted?);
 * tokens after the first rejection are censored (their fate says nothing about their own estimate).
 * Over a sliding window of these pairs it takes the threshold minimising the cost of wrong
 * decisions, a needless continuation costing {@code breakEvenAcceptance} and a needless stop {@code
 * 1 - breakEvenAcceptance} (see {@code ThresholdCalibrator}), and moves λ a tenth of the way
 * towards it, clamped to [0.05, 0.95]. So λ falls when drafts are accepted more often than β̂
 * suggests and rises when they are rejected more often. Until 32 positions have been seen λ stays
 * at its initial value.
 *
 * <p>One instance serves one request; not thread-safe.
 */
public final class AdaEdlPolicy implements DraftPolicy {
  private static final int MIN_OBSERVATIONS = 32;
  private static final double SMOOTHING = 0.1;

  private final DraftShape shape;
  private final AdaEdlSettings settings;
  private final ThresholdCalibrator calibrator;
  private double lambda;

  /**
   * @param shape the drafter's shape; every step drafts up to {@code shape.maxDepth()}
   * @param settings λ's start, γ, the break-even acceptance and the calibration window
   */
  public AdaEdlPolicy(DraftShape shape, AdaEdlSettings settings) {
    this.shape = shape;
    this.settings = settings;
    this.calibrator =
        new ThresholdCalibrator(
            settings.window(), settings.breakEvenAcceptance(), MIN_OBSERVATIONS);
    this.lambda = settings.initialLambda();
  }

  @Override
  public String name() {
    return "adaedl";
  }

  @Override
  public Plan plan(DraftContext context) {
    return shape.plan(shape.maxDepth(), StopRule.entropy(lambda, settings.gamma()));
  }

  @Override
  public void reward(Outcome outcome) {
    double[] entropy = outcome.lineEntropy();
    int judged = Math.min(outcome.lineAccepted() + 1, entropy.length);
    for (int i = 0; i < judged; i++) {
      calibrator.record(
          StopRule.acceptanceEstimate(entropy[i], settings.gamma()), i < outcome.lineAccepted());
    }
    calibrator.threshold().ifPresent(target -> lambda += SMOOTHING * (target - lambda));
  }

  /** The current threshold λ on the acceptance estimate. */
  public double lambda() {
    return lambda;
  }

  /** Verified draft positions currently in the calibration window. */
  int observations() {
    return calibrator.size();
  }
}
