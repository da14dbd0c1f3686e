package io.specd.policies.budget;

/**
 * A straight line {@code y = a + b·x} fitted by least squares with exponential forgetting: how
 * {@link VerifyCosts} extends verification time beyond the batch sizes it has measured, and how
 * {@link DraftCosts} prices a draft by its depth. The slope is never negative (more rows never
 * verify faster) and is taken as zero while the observed {@code x} do not vary enough to measure
 * it. Not thread-safe.
 */
final class DiscountedLine {
  private static final double MIN_RELATIVE_SPREAD = 1e-9;

  private double weight;
  private double sumX;
  private double sumY;
  private double sumXx;
  private double sumXy;

  /** An independent copy. */
  DiscountedLine copy() {
    DiscountedLine copy = new DiscountedLine();
    copy.weight = weight;
    copy.sumX = sumX;
    copy.sumY = sumY;
    copy.sumXx = sumXx;
    copy.sumXy = sumXy;
    return copy;
  }

  /** Adds a point after scaling the earlier ones by {@code discount}. */
  void add(double x, double y, double discount) {
    weight = weight * discount + 1;
    sumX = sumX * discount + x;
    sumY = sumY * discount + y;
    sumXx = sumXx * discount + x * x;
    sumXy = sumXy * discount + x * y;
  }

  /** Scales the points so far by {@code discount}, adding none (a step that measured nothing). */
  void decay(double discount) {
    weight *= discount;
    sumX *= discount;
    sumY *= discount;
    sumXx *= discount;
    sumXy *= discount;
  }

  /** The slope of the line through the origin, {@code Σy / Σx} (0 before the first point). */
  double ratio() {
    return sumX > 0 ? sumY / sumX : 0;
  }

  /** True before the first point. */
  boolean isEmpty() {
    return weight == 0;
  }

  /** The fitted value at {@code x}; the mean of {@code y} while the slope cannot be measured. */
  double predict(double x) {
    return intercept() + slope() * x;
  }

  /** The fitted {@code a} (the mean of {@code y} while the slope cannot be measured). */
  double intercept() {
    return sumY / weight - slope() * (sumX / weight);
  }

  /** The fitted {@code b}, never negative; zero while the {@code x} do not vary enough. */
  double slope() {
    if (!hasSlope()) {
      return 0;
    }
    double meanX = sumX / weight;
    double meanY = sumY / weight;
    return Math.max(0, (sumXy / weight - meanX * meanY) / varianceX());
  }

  /** Whether the observed {@code x} vary enough to measure a slope. */
  boolean hasSlope() {
    double meanX = sumX / weight;
    return weight > 0 && varianceX() > MIN_RELATIVE_SPREAD * (meanX * meanX + 1);
  }

  private double varianceX() {
    double meanX = sumX / weight;
    return sumXx / weight - meanX * meanX;
  }
}
