package io.specd.policies.bandit;

/**
 * Tuning of {@link BanditPolicy}.
 *
 * @param discount weight a request's earlier steps in an occupancy band keep at each new step in
 *     that band, in (0, 1]; below 1 the posterior forgets, so the bandit follows an acceptance
 *     process or a cost that changes mid-stream
 * @param priorWeight the most pseudo-steps per arm a request takes over from the shared prior (&gt;
 *     0); small enough that a request whose text drafts unusually well or badly overrides it within
 *     a few dozen steps
 * @param spread relative per-step noise of committed tokens per unit cost assumed for an arm before
 *     it is measured (&gt; 0)
 */
public record BanditSettings(double discount, double priorWeight, double spread) {

  /**
   * A posterior memory of about 100 steps per band (discount 0.99): long enough to average the
   * large step-to-step variance of accepted lengths, short enough to switch arms within a few
   * hundred steps of a change. At most 10 pseudo-steps per arm from the prior. An assumed 25%
   * per-step noise until measured: between the few percent of wall-time noise of plain decoding and
   * the 50% or more of accepted lengths of deep drafts. On the simulator, larger values (0.5, 1)
   * only added exploration, costing 3–8% more throughput with 11 arms and slowing switches.
   */
  public static final BanditSettings DEFAULTS = new BanditSettings(0.99, 10, 0.25);

  public BanditSettings {
    if (!(discount > 0 && discount <= 1)) {
      throw new IllegalArgumentException("discount must be in (0, 1], got " + discount);
    }
    if (!(priorWeight > 0)) {
      throw new IllegalArgumentException("prior weight must be > 0, got " + priorWeight);
    }
    if (!(spread > 0) || Double.isInfinite(spread)) {
      throw new IllegalArgumentException("spread must be a finite number > 0, got " + spread);
    }
  }
}
