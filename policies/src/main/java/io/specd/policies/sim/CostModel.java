package io.specd.policies.sim;

import java.util.random.RandomGenerator;

/**
 * Simulated step costs. Verification costs a fixed amount plus a cost per row of the batch's
 * forward pass, where a batch of {@code batchOccupancy} sequences each verifying {@code nodes + 1}
 * rows (the draft nodes and the root) processes {@code batchOccupancy × (nodes + 1)} rows; so full
 * batches make every drafted node expensive. A forward costs at least what {@code verifyFreeRows}
 * rows do: on a memory-bound model reading the weights takes as long as that many rows' arithmetic,
 * so a few rows verify at the price of one. Drafting costs a fixed amount per drafted depth (one
 * drafter forward per level) plus a fixed amount per draft (Kangaroo's shallow layers on the root,
 * say). Every cost is multiplied by log-normal noise of mean 1, as measured wall times would be.
 *
 * @param verifyFixedNanos cost of a verification forward independent of its size (&gt; 0)
 * @param verifyPerNodeNanos cost per verified row (≥ 0)
 * @param verifyFreeRows rows a forward costs at least (≥ 0; 0 or 1 for none free)
 * @param draftPerDepthNanos cost per drafted depth (≥ 0)
 * @param draftFixedNanos cost of a draft besides its depths (≥ 0)
 * @param noise standard deviation of the log of the noise factor (≥ 0)
 */
public record CostModel(
    long verifyFixedNanos,
    long verifyPerNodeNanos,
    int verifyFreeRows,
    long draftPerDepthNanos,
    long draftFixedNanos,
    double noise) {

  public CostModel {
    if (verifyFixedNanos <= 0
        || verifyPerNodeNanos < 0
        || verifyFreeRows < 0
        || draftPerDepthNanos < 0
        || draftFixedNanos < 0) {
      throw new IllegalArgumentException(
          "costs need a fixed verify cost > 0 and per-node costs, free rows, per-depth and fixed"
              + " draft costs >= 0, got "
              + verifyFixedNanos
              + ", "
              + verifyPerNodeNanos
              + ", "
              + verifyFreeRows
              + ", "
              + draftPerDepthNanos
              + ", "
              + draftFixedNanos);
    }
    if (!(noise >= 0) || Double.isInfinite(noise)) {
      throw new IllegalArgumentException("noise must be a finite number >= 0, got " + noise);
    }
  }

  /** Costs where every row is paid for (no free rows) and a draft costs its depths alone. */
  public CostModel(
      long verifyFixedNanos, long verifyPerNodeNanos, long draftPerDepthNanos, double noise) {
    this(verifyFixedNanos, verifyPerNodeNanos, 0, draftPerDepthNanos, 0, noise);
  }

  /** Verification time of {@code nodes} draft nodes in a batch of {@code batchOccupancy}. */
  public long verifyNanos(int nodes, int batchOccupancy, RandomGenerator random) {
    double rows = (double) batchOccupancy * (nodes + 1);
    return noisy(verifyFixedNanos + verifyPerNodeNanos * Math.max(rows, verifyFreeRows), random);
  }

  /** Drafting time of a draft {@code depth} deep (0 when nothing is drafted). */
  public long draftNanos(int depth, RandomGenerator random) {
    return depth == 0 ? 0 : noisy((double) draftPerDepthNanos * depth + draftFixedNanos, random);
  }

  private long noisy(double nanos, RandomGenerator random) {
    double factor = Math.exp(noise * random.nextGaussian() - noise * noise / 2);
    return Math.round(nanos * factor);
  }
}
