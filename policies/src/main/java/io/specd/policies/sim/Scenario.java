package io.specd.policies.sim;

/**
 * What the simulator simulates: an acceptance process, costs, drafter signals, and the request's
 * context (drafter name, temperature, verification batch occupancy).
 *
 * @param acceptance acceptance probability per depth and step
 * @param costs drafting and verification times
 * @param signals the drafter's confidence and entropy
 * @param batchOccupancy sequences in every verification batch (≥ 1)
 * @param drafter drafter name reported to policies
 * @param temperature sampling temperature reported to policies (≥ 0)
 */
public record Scenario(
    AcceptanceProcess acceptance,
    CostModel costs,
    SignalModel signals,
    int batchOccupancy,
    String drafter,
    double temperature) {

  public Scenario {
    if (acceptance == null || costs == null || signals == null || drafter == null) {
      throw new IllegalArgumentException("a scenario needs acceptance, costs, signals, drafter");
    }
    if (batchOccupancy < 1) {
      throw new IllegalArgumentException("batch occupancy must be >= 1, got " + batchOccupancy);
    }
    if (!(temperature >= 0)) {
      throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
    }
  }

  /** A greedy request of a {@code simulated} drafter, alone in its batch, calibrated signals. */
  public static Scenario of(AcceptanceProcess acceptance, CostModel costs) {
    return new Scenario(acceptance, costs, SignalModel.CALIBRATED, 1, "simulated", 0);
  }

  /** The same scenario with other drafter signals. */
  public Scenario withSignals(SignalModel newSignals) {
    return new Scenario(acceptance, costs, newSignals, batchOccupancy, drafter, temperature);
  }

  /** The same scenario with {@code occupancy} sequences per verification batch. */
  public Scenario withOccupancy(int occupancy) {
    return new Scenario(acceptance, costs, signals, occupancy, drafter, temperature);
  }
}
