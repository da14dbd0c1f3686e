package io.specd.policies.sim;

import java.util.random.RandomGenerator;

/**
 * How the simulated drafter's confidence and entropy relate to acceptance. Each main-line token
 * gets its own acceptance probability, spread uniformly around the process's mean for its depth
 * (some tokens are easy, some hard); the drafter reports an estimate of it, scaled by {@code
 * calibration} and blurred by normal noise; the reported top-1 confidence is that estimate and the
 * reported entropy is the one whose AdaEDL bound {@code 1 - sqrt(γ·H)} with {@link
 * #REFERENCE_GAMMA} gives it back, {@code H = (1 - estimate)² / γ}.
 *
 * @param spread how far a token's acceptance probability strays from its depth's mean, as a
 *     fraction of the distance to 0 or 1, in [0, 1]
 * @param calibration factor between the drafter's estimate and the true probability (&gt; 0): 1 is
 *     calibrated, above 1 over-confident, below 1 under-confident
 * @param noise standard deviation of the estimate's noise (≥ 0)
 */
public record SignalModel(double spread, double calibration, double noise) {

  /** The γ under which the reported entropy's AdaEDL bound equals the reported confidence. */
  public static final double REFERENCE_GAMMA = 0.2;

  /** A calibrated drafter with widely spread token difficulty and a little noise. */
  public static final SignalModel CALIBRATED = new SignalModel(0.8, 1, 0.05);

  private static final double MIN_ESTIMATE = 0.001;
  private static final double MAX_ESTIMATE = 0.999;

  public SignalModel {
    if (!(spread >= 0 && spread <= 1)) {
      throw new IllegalArgumentException("spread must be in [0, 1], got " + spread);
    }
    if (!(calibration > 0) || Double.isInfinite(calibration)) {
      throw new IllegalArgumentException("calibration must be a finite number > 0");
    }
    if (!(noise >= 0) || Double.isInfinite(noise)) {
      throw new IllegalArgumentException("noise must be a finite number >= 0, got " + noise);
    }
  }

  /** One token's acceptance probability, of mean {@code mean}. */
  public double tokenProbability(double mean, RandomGenerator random) {
    double halfWidth = spread * Math.min(mean, 1 - mean);
    return mean + halfWidth * (2 * random.nextDouble() - 1);
  }

  /** The drafter's estimate of a token's acceptance probability, in [0.001, 0.999]. */
  public double estimate(double probability, RandomGenerator random) {
    double estimate = calibration * probability + noise * random.nextGaussian();
    return Math.max(MIN_ESTIMATE, Math.min(MAX_ESTIMATE, estimate));
  }

  /** The entropy (nats) the drafter reports with an estimate. */
  public static double entropy(double estimate) {
    return (1 - estimate) * (1 - estimate) / REFERENCE_GAMMA;
  }
}
