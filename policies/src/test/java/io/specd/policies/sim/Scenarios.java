package io.specd.policies.sim;

import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.Plan;
import java.util.List;

/** Simulated workloads shared by the policy tests, and the fixed-arm baseline they compare to. */
public final class Scenarios {
  /** CPU-like costs: a 2 ms target forward, 50 µs per verified row, 0.3 ms per drafted depth. */
  public static final CostModel CPU = new CostModel(2_000_000, 50_000, 300_000, 0.1);

  /** As {@link #CPU} with a drafter twice as slow (0.6 ms per depth). */
  public static final CostModel SLOW_DRAFTER = new CostModel(2_000_000, 50_000, 600_000, 0.1);

  /**
   * The CPU backend on a memory-bound model (the padded 2048×8 Q8_0 one): a forward costs what 3
   * rows' arithmetic does (13 ms) however few rows it carries, then 4 ms a row; 1 ms per drafted
   * depth.
   */
  public static final CostModel MEMORY_BOUND =
      new CostModel(1_000_000, 4_000_000, 3, 1_000_000, 0, 0.1);

  /**
   * As {@link #MEMORY_BOUND} with a Kangaroo-like drafter: 4 ms a draft (the target's shallow
   * layers on the root) and 1 ms a depth (the adapter, the shallow layers on the drafted tokens).
   */
  public static final CostModel MEMORY_BOUND_FIXED_DRAFT =
      new CostModel(1_000_000, 4_000_000, 3, 1_000_000, 4_000_000, 0.1);

  /** A drafter that matches the target well, less so deeper. */
  public static final double[] GOOD = {0.85, 0.8, 0.75, 0.7, 0.65, 0.6};

  /** A drafter of middling quality. */
  public static final double[] MIDDLING = {0.6, 0.5, 0.4};

  /** A drafter that almost never matches. */
  public static final double[] POOR = {0.03};

  private Scenarios() {}

  /** A request alone in its batch with the given acceptance and costs. */
  public static Scenario of(double[] acceptance, CostModel costs) {
    return Scenario.of(AcceptanceProcess.constant(acceptance), costs);
  }

  /** The throughput of the best plan among {@code plans}, each played every step. */
  public static double bestFixedTokensPerSecond(
      Scenario scenario, List<Plan> plans, int steps, long seed) {
    return plans.stream()
        .mapToDouble(
            plan ->
                new Simulator(scenario, seed)
                    .run(new StaticPolicy("fixed", plan), steps)
                    .tokensPerSecond())
        .max()
        .orElseThrow();
  }
}
