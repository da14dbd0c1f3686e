package io.specd.kernels.train;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A corpus split into training sequences and a held-out tenth used to measure the trained heads
 * (Medusa's tree calibration, acceptance reports).
 */
public final class CorpusSplit {
  private final List<DistillationCorpus.Sequence> training;
  private final List<DistillationCorpus.Sequence> heldOut;

  public CorpusSplit(DistillationCorpus corpus) {
    List<DistillationCorpus.Sequence> all = corpus.sequences();
    int held = Math.max(1, all.size() / 10);
    this.training = all.subList(0, all.size() - held);
    this.heldOut = all.subList(all.size() - held, all.size());
  }

  public List<DistillationCorpus.Sequence> training() {
    return training;
  }

  public List<DistillationCorpus.Sequence> heldOut() {
    return heldOut;
  }

  /** A random training sequence with at least {@code minLength} tokens. */
  public DistillationCorpus.Sequence randomTraining(SplittableRandom random, int minLength) {
    for (int attempt = 0; attempt < 1000; attempt++) {
      DistillationCorpus.Sequence s = training.get(random.nextInt(training.size()));
      if (s.length() >= minLength) {
        return s;
      }
    }
    throw new IllegalStateException("the corpus has no sequence of " + minLength + " tokens");
  }
}
