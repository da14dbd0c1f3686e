package io.specd.policies.budget;

/**
 * Tuning of {@link BudgetPolicy}.
 *
 * @param discount weight kept by past steps at each new step, in (0, 1]; 0.98 remembers about the
 *     last 50 steps, so the budget follows changes in acceptance and cost within a few dozen steps
 * @param probeEvery one step in this many drafts one level deeper or shallower than the best
 *     budget, alternately (≥ 2), so acceptance beyond the chosen depth and the cost of a larger
 *     tree stay measured
 * @param maxProbeEvery while no speculation stays the best choice, the probe period doubles after
 *     each probe up to this many steps (≥ probeEvery): a probe drafts, which costs what plain
 *     decoding would not, and it bounds how long a rise in acceptance goes unseen
 */
public record BudgetSettings(double discount, int probeEvery, int maxProbeEvery) {

  /** Forgets with a 50-step memory; probes one step in eight, in 32 while plain decoding wins. */
  public static final BudgetSettings DEFAULTS = new BudgetSettings(0.98, 8, 32);

  public BudgetSettings {
    if (!(discount > 0 && discount <= 1)) {
      throw new IllegalArgumentException("discount must be in (0, 1], got " + discount);
    }
    if (probeEvery < 2) {
      throw new IllegalArgumentException("probe period must be >= 2 steps, got " + probeEvery);
    }
    if (maxProbeEvery < probeEvery) {
      throw new IllegalArgumentException(
          "longest probe period must be >= " + probeEvery + " steps, got " + maxProbeEvery);
    }
  }
}
