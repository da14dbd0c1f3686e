package io.specd.policies.bandit;

/**
 * Coarse bands of sampling temperature. Acceptance depends strongly on temperature (greedy
 * verification accepts only the target's argmax; hot sampling accepts more varied drafts but from
 * flatter distributions), so requests share what they learn only within a band.
 */
public enum TemperatureBand {
  /** Temperature 0: greedy decoding. */
  GREEDY,
  /** Temperature in (0, 0.7]. */
  LOW,
  /** Temperature above 0.7. */
  HIGH;

  private static final double LOW_LIMIT = 0.7;

  /** The band of a temperature (≥ 0). */
  public static TemperatureBand of(double temperature) {
    if (temperature == 0) {
      return GREEDY;
    }
    return temperature <= LOW_LIMIT ? LOW : HIGH;
  }
}
