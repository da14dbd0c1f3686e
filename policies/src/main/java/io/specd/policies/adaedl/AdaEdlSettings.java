package io.specd.policies.adaedl;

/**
 * Tuning of {@link AdaEdlPolicy}.
 *
 * @param initialLambda λ before enough drafts have been verified to calibrate it, in [0, 1]
 * @param gamma γ, the scale of the entropy bound {@code 1 - sqrt(γ·H)} (&gt; 0)
 * @param breakEvenAcceptance the acceptance probability below which drafting past a token does not
 *     pay, in (0, 1): a wrong "continue" is charged this much and a wrong "stop" one minus it
 * @param window how many recent verified draft positions λ is calibrated on (≥ 16)
 */
public record AdaEdlSettings(
    double initialLambda, double gamma, double breakEvenAcceptance, int window) {

  /**
   * λ starts at 0.5 (the middle of the 0.5–0.7 warm start our notes suggest, low enough that
   * drafters which drop a failing token still show us tokens near the threshold). γ = 0.2 is the
   * value secondary summaries of the paper report for all its experiments; because λ is learned, γ
   * only sets the resolution of the threshold, not the rule (β̂ &lt; λ is the same as H &gt; (1 -
   * λ)² / γ). The break-even acceptance 0.25 charges a needless stop three times a needless
   * continuation, the ratio Hugging Face's assisted generation uses to calibrate its confidence
   * threshold. The window of 512 positions spans some 100–200 steps.
   */
  public static final AdaEdlSettings DEFAULTS = new AdaEdlSettings(0.5, 0.2, 0.25, 512);

  public AdaEdlSettings {
    if (!(initialLambda >= 0 && initialLambda <= 1)) {
      throw new IllegalArgumentException("initial lambda must be in [0, 1], got " + initialLambda);
    }
    if (!(gamma > 0) || Double.isInfinite(gamma)) {
      throw new IllegalArgumentException("gamma must be a finite number > 0, got " + gamma);
    }
    if (!(breakEvenAcceptance > 0 && breakEvenAcceptance < 1)) {
      throw new IllegalArgumentException(
          "break-even acceptance must be in (0, 1), got " + breakEvenAcceptance);
    }
    if (window < 16) {
      throw new IllegalArgumentException("calibration window must be >= 16, got " + window);
    }
  }
}
