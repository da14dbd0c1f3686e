package io.specd.policies.bandit;

/**
 * Discounted sufficient statistics of the steps one arm played: their weight, committed tokens
 * {@code c}, costs {@code t}, and the second moments that give the uncertainty of the arm's rate
 * {@code Σc / Σt}, its committed tokens per unit of step cost. The ratio of sums, rather than the
 * mean of per-step ratios, is the arm's long-run throughput, and it makes the unit of cost
 * irrelevant.
 *
 * <p>Measured wall-clock costs are noisy and occasionally spike (a garbage collection, a
 * descheduled thread), so a cost above five times the arm's mean so far is clipped to that before
 * it is counted. Not thread-safe.
 */
final class ArmStatistics {
  private static final double OUTLIER_FACTOR = 5;

  private double weight;
  private double committed;
  private double cost;
  private double committedSquares;
  private double costSquares;
  private double products;

  /** Scales every past step's weight by {@code factor}. */
  void discount(double factor) {
    weight *= factor;
    committed *= factor;
    cost *= factor;
    committedSquares *= factor;
    costSquares *= factor;
    products *= factor;
  }

  /** Counts one step that committed {@code c} tokens at cost {@code t} (&gt; 0). */
  void add(double c, double t) {
    double clipped = weight > 0 ? Math.min(t, OUTLIER_FACTOR * cost / weight) : t;
    weight += 1;
    committed += c;
    cost += clipped;
    committedSquares += c * c;
    costSquares += clipped * clipped;
    products += c * clipped;
  }

  /** The discounted number of steps counted (0 for an arm never played). */
  double weight() {
    return weight;
  }

  /** Committed tokens per unit of cost, {@code Σc / Σt}; only meaningful once played. */
  double rate() {
    return committed / cost;
  }

  /**
   * The standard error of {@link #rate()}, by the delta method: the spread of the residuals {@code
   * c - rate·t} over the square root of the weight, divided by the mean cost. The residual variance
   * is regularised by one pseudo-step whose residual is {@code spread} times the mean committed
   * tokens, so that an arm seen once or twice is not trusted as if its steps never varied.
   *
   * @param spread relative per-step noise assumed before it is measured
   */
  double standardError(double spread) {
    double rate = rate();
    double meanCost = cost / weight;
    double residual =
        Math.max(0, (committedSquares - 2 * rate * products + rate * rate * costSquares) / weight);
    double assumed = spread * rate * meanCost;
    double variance = (weight * residual + assumed * assumed) / (weight + 1);
    return Math.sqrt(variance / weight) / meanCost;
  }

  /** A copy scaled down so that its weight is at most {@code maxWeight}. */
  ArmStatistics cappedAt(double maxWeight) {
    ArmStatistics copy = new ArmStatistics();
    copy.weight = weight;
    copy.committed = committed;
    copy.cost = cost;
    copy.committedSquares = committedSquares;
    copy.costSquares = costSquares;
    copy.products = products;
    if (weight > maxWeight) {
      copy.discount(maxWeight / weight);
    }
    return copy;
  }
}
