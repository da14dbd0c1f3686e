package io.specd.kernels.sample;

/**
 * The arrays sampling writes for one vocabulary, kept for reuse: a sampled request takes a warped
 * distribution per verified position, and with a vocabulary of 32,000 or 151,936 fresh arrays cost
 * 0.4–2 MB a position. Holds the distribution {@code [vocab]}, the softmax weights {@code [vocab]}
 * and {@link LogitOrder}'s buckets, made at the first distribution (a greedy request never makes
 * them); a second distribution for speculative sampling's residual {@code [vocab]}, made when first
 * asked for; and the sort keys and order {@code [vocab]}, made once a top-k or top-p filter asks
 * for them. Not thread-safe: one per request.
 */
public final class SamplingWorkspace {
  private final int vocabularySize;
  float[] probabilities;
  private float[] residual;
  double[] weights;
  int[] bucketTokens;
  double[] bucketMasses;
  long[] keys;
  int[] order;

  public SamplingWorkspace(int vocabularySize) {
    this.vocabularySize = vocabularySize;
  }

  public int vocabularySize() {
    return vocabularySize;
  }

  /**
   * Scratch {@code [vocab]} for a distribution derived from the last one {@link
   * Sampler#distribution} returned, which it does not overwrite.
   */
  public float[] residual() {
    if (residual == null) {
      residual = new float[vocabularySize];
    }
    return residual;
  }

  void ensure() {
    if (probabilities == null) {
      probabilities = new float[vocabularySize];
      weights = new double[vocabularySize];
      bucketTokens = new int[LogitOrder.BUCKETS];
      bucketMasses = new double[LogitOrder.BUCKETS];
    }
  }

  void ensureOrder() {
    if (keys == null) {
      keys = new long[vocabularySize];
      order = new int[vocabularySize];
    }
  }
}
