package io.specd.policies.budget;

/**
 * Verification time against the rows of the verification batch, as measured: a mean per row count
 * observed, with exponential forgetting and stalls clipped, made never decreasing in rows by a
 * weighted isotonic fit (adjacent counts whose means fall are pooled, each weighing as much as it
 * was observed), interpolated linearly between the counts observed and extended beyond them by the
 * slope of a line fitted to every step ({@link DiscountedLine}). Pooling matters where one count is
 * rare: a slow step among a few plain ones must not raise every larger count to its mean (taking
 * the largest mean so far did: plain steps then looked as dear as three-row verifications, and the
 * planner drafted deeper than paid). A line alone cannot follow a CPU's costs on a memory-bound
 * model, where the weights are read once however many rows a forward carries until the arithmetic
 * takes over (the padded 2048×8 Q8_0 model: 4 rows cost 1.5× one row, 8 rows 2.7×, 16 rows 5×):
 * fitted across those points it over-prices short chains and under-prices wide trees. A request's
 * goodput planner keeps one, and the device one of its steps (reported in {@code /metrics}). Not
 * thread-safe; allocates nothing after construction.
 */
public final class VerifyCosts {
  /** Row counts above this are only in the line. */
  private static final int MAX_ROWS = 512;

  /**
   * A step at a row count with an established mean counts as at most this many times that mean: a
   * garbage-collection pause or a preemption stalls whichever step it lands on, and those are
   * nearly always at the row count observed most (plain decoding's one row), so unclipped stalls
   * priced plain steps above drafting ones (a 4 ms pause in a 25 µs step). The other way, a step
   * below its count's mean by this factor replaces the mean: then the mean came from a stall or
   * from the first steps, run while the JIT compiled them (a two-row verification of the padded
   * model timed at 47 ms, 14 ms since, which priced drafting out).
   */
  static final double STALL = 3;

  /** Weight below which a row count's mean is forgotten. */
  private static final double FORGOTTEN = 1e-3;

  private final double[] weight; // [MAX_ROWS + 1] discounted count of steps at each row count
  private final double[] total; // [MAX_ROWS + 1] discounted sum of their times
  private final int[] observed; // the row counts with a weight, ascending: [count]
  private final double[] fitted; // [count] their means made non-decreasing (pooled)
  private final double[] poolWeight; // [pools] scratch of the fit: a pool's weight,
  private final double[] poolTotal; // its times
  private final int[] poolEnd; // and its last index into observed
  private final DiscountedLine line;
  private int count;

  public VerifyCosts() {
    this.weight = new double[MAX_ROWS + 1];
    this.total = new double[MAX_ROWS + 1];
    this.observed = new int[MAX_ROWS];
    this.fitted = new double[MAX_ROWS];
    this.poolWeight = new double[MAX_ROWS];
    this.poolTotal = new double[MAX_ROWS];
    this.poolEnd = new int[MAX_ROWS];
    this.line = new DiscountedLine();
  }

  private VerifyCosts(VerifyCosts from) {
    this.weight = from.weight.clone();
    this.total = from.total.clone();
    this.observed = from.observed.clone();
    this.fitted = from.fitted.clone();
    this.poolWeight = new double[MAX_ROWS];
    this.poolTotal = new double[MAX_ROWS];
    this.poolEnd = new int[MAX_ROWS];
    this.line = from.line.copy();
    this.count = from.count;
  }

  VerifyCosts copy() {
    return new VerifyCosts(this);
  }

  /**
   * Records a verification of {@code rows} rows that took {@code nanos} (or any unit of time, the
   * same throughout), after aging the rest by {@code discount}.
   */
  public void add(double rows, double nanos, double discount) {
    int row = (int) Math.round(rows);
    boolean tracked = row >= 1 && row <= MAX_ROWS;
    if (tracked && weight[row] > 0 && nanos * STALL < total[row] / weight[row]) {
      weight[row] = 0; // forgotten below, then this step starts the count again
      total[row] = 0;
    } else if (tracked && weight[row] >= 1) {
      nanos = Math.min(nanos, STALL * total[row] / weight[row]);
    }
    line.add(rows, nanos, discount);
    int kept = 0;
    for (int i = 0; i < count; i++) {
      int r = observed[i];
      weight[r] *= discount;
      total[r] *= discount;
      if (weight[r] < FORGOTTEN) {
        weight[r] = 0;
        total[r] = 0;
      } else {
        observed[kept++] = r;
      }
    }
    count = kept;
    if (tracked) {
      if (weight[row] == 0) {
        int at = count++;
        for (; at > 0 && observed[at - 1] > row; at--) {
          observed[at] = observed[at - 1];
        }
        observed[at] = row;
      }
      weight[row] += 1;
      total[row] += nanos;
    }
    fit();
  }

  /**
   * The pool-adjacent-violators fit of the means: each count joins a pool of its own, which merges
   * with the pool before it while that one's mean is higher; every count gets its pool's mean.
   */
  private void fit() {
    int pools = 0;
    for (int i = 0; i < count; i++) {
      poolWeight[pools] = weight[observed[i]];
      poolTotal[pools] = total[observed[i]];
      poolEnd[pools] = i;
      pools++;
      while (pools > 1
          && poolTotal[pools - 1] * poolWeight[pools - 2]
              < poolTotal[pools - 2] * poolWeight[pools - 1]) { // the last mean is the lower
        poolWeight[pools - 2] += poolWeight[pools - 1];
        poolTotal[pools - 2] += poolTotal[pools - 1];
        poolEnd[pools - 2] = poolEnd[pools - 1];
        pools--;
      }
    }
    int first = 0;
    for (int p = 0; p < pools; p++) {
      double mean = poolTotal[p] / poolWeight[p];
      for (int i = first; i <= poolEnd[p]; i++) {
        fitted[i] = mean;
      }
      first = poolEnd[p] + 1;
    }
  }

  /** The fitted line's intercept: the cost of a step apart from its rows. */
  public double fittedIntercept() {
    return line.intercept();
  }

  /** The fitted line's slope: the cost of one row more, never negative. */
  public double fittedSlope() {
    return line.slope();
  }

  /**
   * Whether {@link #predict} at {@code rows} rests on measurements: the row counts observed reach
   * that far, or the fitted line has a slope to extend them by (after a long stretch at one row
   * count the others are forgotten and beyond them the prediction is flat, a guess).
   */
  public boolean measures(double rows) {
    return count > 0 && (rows <= observed[count - 1] || line.hasSlope());
  }

  /** True before the first verification. */
  boolean isEmpty() {
    return line.isEmpty();
  }

  /**
   * Expected time of a verification of {@code rows} rows (in the unit of the times added): the mean
   * at that count, else between the nearest counts observed below and above, else from the nearest
   * one along the line's slope; at least the time expected for any smaller count.
   */
  public double predict(double rows) {
    if (count == 0) {
      return line.predict(rows);
    }
    int below = -1; // the last count observed at or below rows
    while (below + 1 < count && observed[below + 1] <= rows) {
      below++;
    }
    double slope = line.slope();
    if (below < 0) {
      return Math.max(0, fitted[0] - slope * (observed[0] - rows));
    }
    if (below == count - 1) {
      return fitted[below] + slope * (rows - observed[below]);
    }
    double fraction = (rows - observed[below]) / (observed[below + 1] - observed[below]);
    return fitted[below] + fraction * (fitted[below + 1] - fitted[below]);
  }
}
