package io.specd.policies.budget;

/**
 * Drafting time against the depth drafted, at each width the planner drafts: a line {@code a +
 * b·depth} per width fitted with forgetting ({@link DiscountedLine}), through the origin while the
 * depths timed at that width have not varied. A drafter's work is not proportional to the depth:
 * Kangaroo runs the target's shallow layers on the root before its first level, and Medusa's heads
 * run once whatever the depth. On the padded 2048×8 Q8_0 model a Kangaroo draft took 5.4 ms one
 * deep and 7.6 ms two deep; a time per depth learnt one deep priced two deep at 10.8 ms. A width
 * not timed yet borrows the line of every width's timings. Every step ages the timings, drafted or
 * not, as it ages the planner's other estimates. Not thread-safe.
 */
final class DraftCosts {
  private final DiscountedLine[] lines; // [widths]
  private DiscountedLine pooled; // every width's timings

  /**
   * @param widths widths (levels) drafted
   */
  DraftCosts(int widths) {
    this.lines = new DiscountedLine[widths];
    for (int w = 0; w < widths; w++) {
      lines[w] = new DiscountedLine();
    }
    this.pooled = new DiscountedLine();
  }

  private DraftCosts(DraftCosts from) {
    this.lines = new DiscountedLine[from.lines.length];
    for (int w = 0; w < lines.length; w++) {
      lines[w] = from.lines[w].copy();
    }
    this.pooled = from.pooled.copy();
  }

  DraftCosts copy() {
    return new DraftCosts(this);
  }

  /**
   * Ages every timing by {@code discount}, then records a draft's time.
   *
   * @param width the width of a timed draft, or -1 for a step that timed none
   * @param depth its depth (≥ 1 with a width)
   * @param nanos its drafting time
   */
  void observe(int width, int depth, double nanos, double discount) {
    for (int w = 0; w < lines.length; w++) {
      if (w == width) {
        lines[w].add(depth, nanos, discount);
      } else {
        lines[w].decay(discount);
      }
    }
    if (width >= 0) {
      pooled.add(depth, nanos, discount);
    } else {
      pooled.decay(discount);
    }
  }

  /**
   * Drops the timings of {@code width} (and the pooled ones, which hold them): they came from the
   * JIT's first runs of the drafter, or a stall, and a draft far below them replaces them.
   */
  void forget(int width) {
    lines[width] = new DiscountedLine();
    pooled = new DiscountedLine();
  }

  /** True before the first timing. */
  boolean isEmpty() {
    return pooled.isEmpty();
  }

  /** Whether a draft at {@code width} has been timed (since it was last forgotten). */
  boolean timed(int width) {
    return !lines[width].isEmpty();
  }

  /**
   * Expected drafting time of a draft {@code depth} deep at {@code width} (0 for depth 0 or before
   * any timing).
   */
  double nanos(int width, int depth) {
    DiscountedLine line = timed(width) ? lines[width] : pooled;
    if (depth == 0 || line.isEmpty()) {
      return 0;
    }
    return line.hasSlope() ? Math.max(0, line.predict(depth)) : line.ratio() * depth;
  }
}
