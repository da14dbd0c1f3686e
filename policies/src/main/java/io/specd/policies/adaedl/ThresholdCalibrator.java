package io.specd.policies.adaedl;

import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.OptionalDouble;

/**
 * Chooses a stop threshold from recent (acceptance estimate, accepted?) pairs: the threshold {@code
 * t} ("stop after a token whose estimate is below t") that minimises the empirical cost of its
 * mistakes over a sliding window, where continuing past a token that is then rejected costs {@code
 * breakEven} and stopping at a token that is then accepted costs {@code 1 - breakEven}. This is the
 * empirical form of the Bayes rule "continue while P(accepted | estimate) ≥ breakEven", with no
 * assumption that the estimate is calibrated, only that acceptance grows with it. Among equally
 * good thresholds the lowest is taken, at the middle of the gap between the two observed estimates
 * it falls between. Not thread-safe.
 */
final class ThresholdCalibrator {
  /** The lowest threshold ever returned. */
  static final double MIN_THRESHOLD = 0.05;

  /** The highest threshold ever returned. */
  static final double MAX_THRESHOLD = 0.95;

  private record Observation(double estimate, boolean accepted) {}

  private final int window;
  private final double breakEven;
  private final int minObservations;
  private final Deque<Observation> recent = new ArrayDeque<>();

  /**
   * @param window how many recent observations count
   * @param breakEven the acceptance probability at which continuing and stopping cost the same
   * @param minObservations observations needed before a threshold is proposed
   */
  ThresholdCalibrator(int window, double breakEven, int minObservations) {
    this.window = window;
    this.breakEven = breakEven;
    this.minObservations = minObservations;
  }

  /** Records one verified draft token: its acceptance estimate and whether it was accepted. */
  void record(double estimate, boolean accepted) {
    if (recent.size() == window) {
      recent.removeFirst();
    }
    recent.addLast(new Observation(estimate, accepted));
  }

  /** Observations currently in the window. */
  int size() {
    return recent.size();
  }

  /** The cost-minimising threshold, or empty while fewer than the minimum were recorded. */
  OptionalDouble threshold() {
    if (recent.size() < minObservations) {
      return OptionalDouble.empty();
    }
    List<Observation> sorted =
        recent.stream().sorted(Comparator.comparingDouble(Observation::estimate)).toList();
    double falseContinue = breakEven;
    double falseStop = 1 - breakEven;
    // Cut k stops at the k lowest estimates; cut 0 continues everywhere.
    double loss = falseContinue * sorted.stream().filter(o -> !o.accepted()).count();
    double bestLoss = loss;
    int bestCut = 0;
    for (int i = 0; i < sorted.size(); i++) {
      loss += sorted.get(i).accepted() ? falseStop : -falseContinue;
      boolean tiedWithNext =
          i + 1 < sorted.size() && sorted.get(i + 1).estimate() == sorted.get(i).estimate();
      if (!tiedWithNext && loss < bestLoss) {
        bestLoss = loss;
        bestCut = i + 1;
      }
    }
    double below = bestCut == 0 ? MIN_THRESHOLD : sorted.get(bestCut - 1).estimate();
    double above = bestCut == sorted.size() ? MAX_THRESHOLD : sorted.get(bestCut).estimate();
    return OptionalDouble.of(clamp((below + above) / 2));
  }

  private static double clamp(double threshold) {
    return Math.max(MIN_THRESHOLD, Math.min(MAX_THRESHOLD, threshold));
  }
}
