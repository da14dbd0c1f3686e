package io.specd.policies.bandit;

/**
 * What all requests of one drafter and temperature band have learnt about the arms: a reward table
 * fed by every step of every request, forgetting slowly so that it follows drift across requests.
 * Thread-safe: requests running concurrently update and copy it.
 */
final class SharedPrior {
  private final RewardTable table;
  private final double discount;

  /**
   * @param arms number of arms
   * @param discount weight kept by earlier steps of a band at each new step of that band
   */
  SharedPrior(int arms, double discount) {
    this.table = new RewardTable(arms);
    this.discount = discount;
  }

  /** Counts one step of one request. */
  synchronized void observe(int band, int arm, double committed, double cost) {
    table.observe(band, arm, committed, cost, discount);
  }

  /** A private copy for a new request, each arm's weight capped at {@code maxWeight}. */
  synchronized RewardTable snapshot(double maxWeight) {
    return table.copy(maxWeight);
  }
}
