package io.specd.policies.budget;

/**
 * What a goodput planner has learnt: the acceptance per depth at each width it drafts, the time a
 * verification takes against the rows of its batch ({@link VerifyCosts}), and the time drafting
 * takes against the depth drafted ({@link DraftCosts}), all with exponential forgetting per step.
 * Copied to start a request from what the ones before it learnt ({@link BudgetMemory}). Not
 * thread-safe.
 */
final class BudgetEstimates {
  /** Weight of the latest resumption in the catch-up estimate. */
  private static final double CATCH_UP_WEIGHT = 0.25;

  /**
   * The width of a step that verified a draft at hand without drafting work (prompt lookup's): not
   * one of the drafter's drafts, and not a pause in them either, since the drafter's state keeps up
   * with such a step as with its own (Kangaroo's adapter replays the accepted tokens' shallow
   * states, kept by the full forward, as it replays its own last token). Counting it as a pause
   * left every draft after one untimed: on repetitive text, where most steps are free, a draft cost
   * measured while the JIT compiled the drafter stood for good and the drafter's drafts stopped.
   */
  static final int FREE = -2;

  private final DepthAcceptance[] acceptance; // per width
  private final VerifyCosts verifyNanos;
  private final DraftCosts draftNanos; // timed drafting time against depth, at each width
  private int stepsSinceDraft;
  private int stepsSinceTimedDraft;
  private int timings; // drafts timed, ever
  private int staleRetimings; // re-timings of aged costs since drafting last paid
  private int probePeriod; // the planner's probe period when these were published; 0 before
  private double catchUpNanos; // what a first draft after a pause takes beyond a draft, smoothed

  /**
   * @param widths widths (levels) drafted
   * @param maxDepth the deepest depth drafted
   */
  BudgetEstimates(int widths, int maxDepth) {
    this.acceptance = new DepthAcceptance[widths];
    for (int w = 0; w < widths; w++) {
      acceptance[w] = new DepthAcceptance(maxDepth);
    }
    this.verifyNanos = new VerifyCosts();
    this.draftNanos = new DraftCosts(widths);
  }

  private BudgetEstimates(BudgetEstimates from) {
    this.acceptance = new DepthAcceptance[from.acceptance.length];
    for (int w = 0; w < acceptance.length; w++) {
      acceptance[w] = from.acceptance[w].copy();
    }
    this.verifyNanos = from.verifyNanos.copy();
    this.draftNanos = from.draftNanos.copy();
    this.stepsSinceDraft = from.stepsSinceDraft;
    this.stepsSinceTimedDraft = from.stepsSinceTimedDraft;
    this.timings = from.timings;
    this.staleRetimings = from.staleRetimings;
    this.probePeriod = from.probePeriod;
    this.catchUpNanos = from.catchUpNanos;
  }

  BudgetEstimates copy() {
    return new BudgetEstimates(this);
  }

  /** True for estimates of the same widths and depths. */
  boolean fits(int widths, int maxDepth) {
    return acceptance.length == widths && acceptance[0].maxDepth() == maxDepth;
  }

  /**
   * Records a step.
   *
   * @param rows rows of the verification batch, every sequence's
   * @param verify its verification time
   * @param width the width drafted, -1 for a step without a draft, or {@link #FREE}
   * @param draftedDepth depth of the deepest drafted node
   * @param accepted draft tokens accepted
   * @param draft drafting time
   * @param discount weight kept by earlier steps
   */
  void observe(
      double rows,
      double verify,
      int width,
      int draftedDepth,
      int accepted,
      double draft,
      double discount) {
    verifyNanos.add(rows, verify, discount);
    for (int w = 0; w < acceptance.length; w++) { // evidence ages with steps, not with drafts
      if (w == width) {
        acceptance[w].observe(draftedDepth, accepted, discount);
      } else {
        acceptance[w].decay(discount);
      }
    }
    // the draft time ages with steps too: after a long stretch without drafts (the first ones
    // measured while the JIT compiled the drafter, say) the next draft's time weighs the most. A
    // draft right after steps without one is not timed: it includes catching the drafter's state
    // up on the skipped tokens (Clover-2's augmenting block, Kangaroo's adapter), paid once per
    // resumption, which priced every probe out of drafting for good. But a resumption's time bounds
    // the draft's from above, so one below the price held shows that price stale (timed while the
    // JIT compiled the drafter, the probes since then all resumptions) and counts as a timing
    boolean timed =
        width >= 0
            && (stepsSinceDraft == 0
                || draftedDepth > 0
                    && draftNanos.timed(width)
                    && draft < draftNanos(width, draftedDepth));
    if (width >= 0 && !timed && !draftNanos.isEmpty()) { // a resumption: beyond a draft's time
      double catchUp = Math.max(0, draft - draftNanos(width, draftedDepth));
      catchUpNanos += CATCH_UP_WEIGHT * (catchUp - catchUpNanos);
    }
    if (timed && draft * VerifyCosts.STALL < draftNanos(width, draftedDepth)) {
      draftNanos.forget(width); // a price from the JIT's first runs (or a stall): this replaces it
    }
    draftNanos.observe(timed ? width : -1, draftedDepth, draft, discount);
    if (width != FREE) {
      stepsSinceDraft = width >= 0 ? 0 : stepsSinceDraft + 1;
    }
    stepsSinceTimedDraft = timed ? 0 : stepsSinceTimedDraft + 1;
    timings += timed ? 1 : 0;
  }

  /** Whether the drafter's state is current: the last step (free ones aside) drafted. */
  boolean drafterCaughtUp() {
    return stepsSinceDraft == 0;
  }

  /** True before the first step. */
  boolean isEmpty() {
    return verifyNanos.isEmpty();
  }

  /** At {@code width}, index d - 1 holds the probability that the first d drafts are accepted. */
  double[] survival(int width) {
    return acceptance[width].survival();
  }

  /** Expected verification time of a batch of {@code rows} rows. */
  double verifyNanos(double rows) {
    return verifyNanos.predict(rows);
  }

  /** Whether that expectation rests on measurements ({@link VerifyCosts#measures}). */
  boolean measuresVerification(double rows) {
    return verifyNanos.measures(rows);
  }

  /**
   * Steps observed since the last draft whose time was measured (a draft right after one): the age
   * of {@link #draftNanos}.
   */
  int stepsSinceTimedDraft() {
    return stepsSinceTimedDraft;
  }

  /** Drafts timed since these estimates began (copies carry the count on). */
  int timings() {
    return timings;
  }

  /**
   * How many times aged draft costs have been re-timed since drafting last paid: each re-timing
   * pays the drafter's catch-up on every token skipped since the last draft, so while they keep
   * confirming that drafting does not pay they are spaced further apart.
   */
  int staleRetimings() {
    return staleRetimings;
  }

  /** Counts a re-timing of aged draft costs. */
  void retimed() {
    staleRetimings++;
  }

  /**
   * The probe period the planner had reached when it published these (long while no draft has been
   * best), or 0 before any: a request that starts from them goes on probing as rarely.
   */
  int probePeriod() {
    return probePeriod;
  }

  void probePeriod(int steps) {
    probePeriod = steps;
  }

  /** Drafting pays: the next aged costs are re-timed at the first interval again. */
  void draftingPays() {
    staleRetimings = 0;
  }

  /**
   * What resuming drafting costs beyond the draft itself (the drafter's catch-up on the tokens
   * skipped), smoothed over the last few resumptions; 0 before the first.
   */
  double catchUpNanos() {
    return catchUpNanos;
  }

  /**
   * The drafting time of a draft {@code depth} deep at {@code width}, as timed at that width (a
   * wider level drafts more nodes a depth: Kangaroo's shallow layer and adapter run a row per
   * node), or at every width before a draft of that one was timed ({@link DraftCosts}); 0 before
   * any.
   */
  double draftNanos(int width, int depth) {
    return draftNanos.nanos(width, depth);
  }
}
