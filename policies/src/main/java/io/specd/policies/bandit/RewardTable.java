package io.specd.policies.bandit;

import java.util.random.RandomGenerator;

/**
 * Per-arm reward statistics for each batch-occupancy band, and Thompson sampling over them.
 * Occupancy bands are powers of two (1, 2–3, 4–7, 8–15, 16 and more sequences per verification
 * batch) because a fuller batch multiplies the rows each verification processes, which changes
 * which draft pays; each band learns on its own and forgets on its own. Not thread-safe.
 */
final class RewardTable {
  /** Number of occupancy bands. */
  static final int OCCUPANCY_BANDS = 5;

  private final ArmStatistics[][] statistics;

  /** An empty table for {@code arms} arms. */
  RewardTable(int arms) {
    statistics = new ArmStatistics[OCCUPANCY_BANDS][arms];
    for (ArmStatistics[] band : statistics) {
      for (int arm = 0; arm < arms; arm++) {
        band[arm] = new ArmStatistics();
      }
    }
  }

  private RewardTable(ArmStatistics[][] statistics) {
    this.statistics = statistics;
  }

  /** The band of a verification batch of {@code occupancy} sequences. */
  static int band(int occupancy) {
    int log2 = 31 - Integer.numberOfLeadingZeros(Math.max(1, occupancy));
    return Math.min(OCCUPANCY_BANDS - 1, log2);
  }

  /**
   * Counts one step of {@code arm} in {@code band} after discounting every arm of that band.
   *
   * @param committed tokens the step committed
   * @param cost the step's cost (&gt; 0)
   * @param discount weight kept by the band's earlier steps
   */
  void observe(int band, int arm, double committed, double cost, double discount) {
    for (ArmStatistics arms : statistics[band]) {
      arms.discount(discount);
    }
    statistics[band][arm].add(committed, cost);
  }

  /**
   * Thompson sampling: draws each arm's rate from a normal centred on its estimate with its
   * standard error and returns the arm with the highest draw. An arm never played in the band wins
   * outright (the lowest-numbered first), so every arm is tried once before sampling starts.
   *
   * @param spread relative per-step noise assumed for arms seen too little to measure it
   */
  int sample(int band, RandomGenerator random, double spread) {
    int best = 0;
    double bestDraw = Double.NEGATIVE_INFINITY;
    for (int arm = 0; arm < statistics[band].length; arm++) {
      ArmStatistics s = statistics[band][arm];
      double draw =
          s.weight() == 0
              ? Double.POSITIVE_INFINITY
              : s.rate() + s.standardError(spread) * random.nextGaussian();
      if (draw > bestDraw) {
        bestDraw = draw;
        best = arm;
      }
    }
    return best;
  }

  /** A copy whose every arm's weight is capped at {@code maxWeight}. */
  RewardTable copy(double maxWeight) {
    ArmStatistics[][] copy = new ArmStatistics[OCCUPANCY_BANDS][];
    for (int band = 0; band < OCCUPANCY_BANDS; band++) {
      copy[band] = new ArmStatistics[statistics[band].length];
      for (int arm = 0; arm < copy[band].length; arm++) {
        copy[band][arm] = statistics[band][arm].cappedAt(maxWeight);
      }
    }
    return new RewardTable(copy);
  }

  /** The discounted weight of {@code arm}'s steps in {@code band}. */
  double weight(int band, int arm) {
    return statistics[band][arm].weight();
  }
}
