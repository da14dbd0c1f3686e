package io.specd.policies.budget;

import io.specd.policies.DraftShape;
import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Tree shaping under a node budget, EAGLE-2 style: the drafter expands its tree by cumulative
 * confidence and keeps the best {@code nodeBudget} nodes; this policy chooses the depth and the
 * nodes per depth level, and so the budget, that maximise expected committed tokens per expected
 * step time. The levels considered are the shape's nodes per depth, half and a quarter of it.
 *
 * <p>Both expectations are learnt from the outcomes ({@link BudgetEstimates}), starting from those
 * the drafter's earlier requests at the same temperature band published ({@link BudgetMemory}),
 * with exponential forgetting per step (so the acceptance seen before a long stretch without drafts
 * weighs little against the next probe). Expected committed tokens for depth D at a given width are
 * {@code 1 + Σ_{d≤D} P(first d accepted)}, from the acceptance per depth observed at that width
 * ({@code DepthAcceptance}). Expected time is drafting, the draft time measured at that width as a
 * line in the depth ({@link DraftCosts}: a drafter's fixed work is not paid again per depth), plus
 * verification, the measured verify time at the rows of the verification batch, {@code
 * batchOccupancy × (nodes + 1)} if every sequence of the batch plans alike, since a full batch
 * multiplies the rows every verification processes ({@link VerifyCosts}: a curve, not a line, as a
 * memory-bound model verifies a few rows at the price of one). Steps are recorded at the rows their
 * batch really carried ({@link Outcome#batchRows()}): a lone probe in a full batch adds one row,
 * not the batch's worth, and recording it at the planned rows made drafting in full batches look
 * nearly free. Depth 0 (plain decoding) competes too. With nothing learnt yet the policy drafts one
 * level of the widest shape (deeper levels then borrow its acceptance); one step in {@code
 * probeEvery} moves one level deeper, shallower (never to no draft: the draft after it would pay
 * the drafter's catch-up), wider or narrower than the best, in turn, to keep the estimates of
 * neighbouring budgets current. While no speculation is best, a probe is a draft one deep, the
 * probe period doubles after each up to {@code maxProbeEvery} (or as long as keeps the catch-up the
 * probes pay under 2% of the time), and no probe is made while even drafts that are always accepted
 * could not beat plain decoding at the measured costs, so that a request where drafting does not
 * pay runs close to plain decoding. A request goes on at the probe period the requests before it
 * reached (their estimates carry it), after one probe within its first {@code maxProbeEvery} steps
 * for its own text: starting each request at {@code probeEvery} again paid the drafter's catch-up
 * four or five times in a request of 256 tokens (stories260K: 0.90 of plain speed, then 0.95).
 * Those costs age: once no draft has been timed for {@code 16 × maxProbeEvery} steps (counted
 * across the requests that handed the estimates on), the next probe drafts one deep whatever the
 * costs say, and the step after it drafts again; each such re-timing after which drafting still
 * does not pay doubles that interval (up to 16×), since it pays the drafter's catch-up on every
 * skipped token (on stories260K, where no draft pays, re-timing every 512 steps cost 4–8% of plain
 * speed). The first draft after steps without one is not timed (it pays the drafter's catch-up on
 * the skipped tokens); the second is, and its time replaces the aged one. Without it the costs that
 * stopped drafting — measured while the JIT compiled the drafter and the larger verifications, say
 * — would stand for good, and drafting that has become cheap would never resume.
 *
 * <p>While the drafter is caught up and the estimates favoured its drafts, drafting stops only once
 * the time it has lost to plain decoding by the estimates, summed since they last favoured it,
 * reaches what resuming costs the drafter (its catch-up on the skipped tokens): where drafting
 * gains or loses a few percent, noise in the estimates no longer switches it off and on, each
 * resumption paying the catch-up.
 *
 * <p>A draft the drafter has at hand without drafting work ({@link DraftContext#freeDraft}: prompt
 * lookup's match) is planned apart, priced by its verification alone; its step counts as one
 * without the drafter's own draft.
 *
 * <p>One instance serves one request; not thread-safe.
 */
public final class BudgetPolicy implements DraftPolicy {
  /** Without a timed draft for this many longest probe periods, the draft costs are re-measured. */
  private static final int STALE_PROBES = 16;

  /**
   * While no draft is best, probes cost at most this share of plain decoding's time: a probe pays
   * the drafter's catch-up on the tokens skipped since the last draft, so the longest probe period
   * stretches to cover it (on stories260K a catch-up costs a dozen plain steps).
   */
  private static final double PROBE_SHARE = 0.02;

  /** However long a catch-up, a probe at least this often while no draft is best. */
  private static final int LONGEST_PROBE_PERIOD = 1 << 14;

  /**
   * Drafts timed before the measured costs decide whether a probe could pay: the first drafts and
   * the first larger verifications run while the JIT compiles them (on the padded model a 4 ms
   * Kangaroo draft timed at 27 ms, a 14 ms two-row verification at 47 ms), and those prices kept
   * every probe away, in that request and in every one after it.
   */
  private static final int FIRST_TIMINGS = 4;

  /** Re-timings that find drafting still does not pay double the interval, up to 2^this times. */
  private static final int MAX_STALE_BACKOFF = 4;

  private final DraftShape shape;
  private final BudgetSettings settings;
  private final List<DraftShape> widths; // narrowest first
  private final BudgetMemories memories;
  private final List<Choice> probes; // offsets from the best choice, tried in turn
  private BudgetEstimates estimates; // from the memory at the first plan
  private BudgetMemory memory;
  private int probePeriod;
  private int untilProbe;
  private int probeCount;
  private Plan timedProbe; // the draft after a probe of aged costs, whose time is measured, or null
  private boolean free; // the last plan was for a free draft (DraftContext#freeDraft)
  private boolean draftingPaid; // the estimates favoured drafting when it last began or went on
  // ns drafting has lost to plain decoding by the estimates since they last favoured it
  private double lostToDrafting;

  /**
   * A policy that learns from nothing (no memory shared with other requests).
   *
   * @param shape the drafter's shape: the deepest depth considered and the widest level
   * @param settings forgetting and probing
   */
  public BudgetPolicy(DraftShape shape, BudgetSettings settings) {
    this(shape, settings, new BudgetMemories());
  }

  /**
   * @param shape the drafter's shape: the deepest depth considered and the widest level
   * @param settings forgetting and probing
   * @param memories estimates shared with the other requests of the drafter: this request starts
   *     from the latest published for its temperature band and publishes its own
   */
  public BudgetPolicy(DraftShape shape, BudgetSettings settings, BudgetMemories memories) {
    this.shape = shape;
    this.settings = settings;
    this.memories = memories;
    this.widths =
        IntStream.of(shape.nodesPerDepth() / 4, shape.nodesPerDepth() / 2, shape.nodesPerDepth())
            .filter(nodes -> nodes >= 1)
            .distinct()
            .mapToObj(shape::withNodesPerDepth)
            .toList();
    this.probePeriod = settings.probeEvery();
    this.untilProbe = probePeriod;
    this.probes =
        widths.size() == 1
            ? List.of(new Choice(1, 0), new Choice(-1, 0))
            : List.of(new Choice(1, 0), new Choice(-1, 0), new Choice(0, 1), new Choice(0, -1));
  }

  /** A depth (0 = no draft) and an index into {@code widths}, or an offset between two. */
  private record Choice(int depth, int width) {}

  @Override
  public String name() {
    return "tree";
  }

  @Override
  public Plan plan(DraftContext context) {
    if (estimates == null) {
      memory = memories.of(context.drafter(), context.temperature());
      BudgetEstimates shared = memory.snapshot();
      estimates =
          shared != null && shared.fits(widths.size(), shape.maxDepth())
              ? shared
              : new BudgetEstimates(widths.size(), shape.maxDepth());
      // go on probing as rarely as the requests before (no draft has been best for as long), but
      // probe this request's text once early: its acceptance may not be theirs
      probePeriod = Math.max(probePeriod, estimates.probePeriod());
      untilProbe = Math.min(probePeriod, settings.maxProbeEvery());
    }
    free = context.freeDraft() > 0;
    if (free) {
      return freePlan(context.freeDraft(), context.batchOccupancy());
    }
    if (timedProbe != null) {
      Plan plan = timedProbe;
      timedProbe = null;
      return plan;
    }
    Choice best = best(context.batchOccupancy());
    int depth = best.depth();
    int width = best.width();
    if (depth > 0) {
      estimates.draftingPays();
      if (probePeriod > settings.probeEvery()) { // drafting pays again
        probePeriod = settings.probeEvery();
        untilProbe = Math.min(untilProbe, probePeriod);
      }
    }
    if (--untilProbe <= 0) {
      if (depth == 0) { // the one probe that tells anything: a draft one deep, if one could pay
        int backoff = Math.min(estimates.staleRetimings(), MAX_STALE_BACKOFF);
        boolean first = estimates.timings() < FIRST_TIMINGS;
        boolean aged =
            estimates.stepsSinceTimedDraft()
                >= (STALE_PROBES * settings.maxProbeEvery()) << backoff;
        depth = first || aged || couldPay(context.batchOccupancy()) ? 1 : 0;
        if (first || aged) {
          timedProbe = widths.get(width).plan(1, StopRule.NONE);
        }
        if (aged && !first) {
          estimates.retimed();
        }
        probePeriod = Math.min(longestProbePeriod(context.batchOccupancy()), 2 * probePeriod);
      } else {
        Choice offset = probes.get(probeCount++ % probes.size());
        // never to no draft: the draft after it would pay the drafter's catch-up
        depth = Math.max(1, Math.min(shape.maxDepth(), depth + offset.depth()));
        width = Math.max(0, Math.min(widths.size() - 1, width + offset.width()));
      }
      untilProbe = probePeriod;
    }
    return depth == 0 ? Plan.NO_SPECULATION : widths.get(width).plan(depth, StopRule.NONE);
  }

  /**
   * The chain for a draft at hand without drafting work (prompt lookup's match), each token
   * expected accepted at {@code rate}: the depth with the most expected committed tokens per
   * verification time, or none when plain decoding is faster. Probing and the drafter's own
   * estimates are left alone: such a step teaches the verification cost of its rows, nothing about
   * the drafter's drafts.
   */
  private Plan freePlan(double rate, int occupancy) {
    int bestDepth = 0;
    double bestRate = 1 / Math.max(1, estimates.verifyNanos(occupancy));
    double committed = 1;
    double reached = 1;
    for (int depth = 1; depth <= shape.maxDepth(); depth++) {
      reached *= rate;
      committed += reached;
      double perNano =
          committed / Math.max(1, estimates.verifyNanos((double) occupancy * (depth + 1)));
      if (perNano > bestRate) {
        bestRate = perNano;
        bestDepth = depth;
      }
    }
    return bestDepth == 0 ? Plan.NO_SPECULATION : Plan.chain(bestDepth, StopRule.NONE);
  }

  @Override
  public void reward(Outcome outcome) {
    Plan plan = outcome.plan();
    // a free draft's step is not one of the drafter's drafts, nor a pause in them
    int width =
        !plan.speculate() || outcome.draftedDepth() == 0
            ? -1
            : free ? BudgetEstimates.FREE : widthOf(plan);
    estimates.observe(
        outcome.batchRows(),
        outcome.verifyNanos(),
        width,
        outcome.draftedDepth(),
        outcome.accepted(),
        outcome.draftNanos(),
        settings.discount());
    if (untilProbe == 1) { // once per probe period: the next request starts from here
      estimates.probePeriod(probePeriod);
      memory.publish(estimates);
    }
  }

  private int widthOf(Plan plan) {
    for (int w = 0; w < widths.size(); w++) {
      if (widths.get(w).plan(plan.maxDepth(), plan.stop()).equals(plan)) {
        return w;
      }
    }
    return -1;
  }

  /**
   * The (depth, width) with the highest expected committed tokens per nanosecond. Depth 0 (no
   * draft) keeps the width of the best draft, so that probes from it try that draft's neighbours.
   */
  private Choice best(int occupancy) {
    if (estimates.isEmpty()) { // one level first: the deeper levels borrow its acceptance
      return new Choice(1, widths.size() - 1);
    }
    Choice best = new Choice(1, widths.size() - 1);
    double bestRate = 0;
    double bestCommitted = 1;
    for (int width = 0; width < widths.size(); width++) {
      double[] survival = estimates.survival(width);
      double committed = 1;
      for (int depth = 1; depth <= shape.maxDepth(); depth++) {
        committed += survival[depth - 1];
        double rate = committed / expectedNanos(depth, width, occupancy);
        if (rate > bestRate) {
          bestRate = rate;
          bestCommitted = committed;
          best = new Choice(depth, width);
        }
      }
    }
    double plainNanos = expectedNanos(0, best.width(), occupancy);
    if (bestRate * plainNanos >= 1) {
      lostToDrafting = 0;
      draftingPaid = true;
      return best;
    }
    // stopping has a price while the drafter is caught up: drafting resumes (by a probe) with its
    // catch-up on every token skipped. Where drafting is marginal the estimates wander across the
    // break-even, and switching off at each crossing paid the catch-up at each resumption; so
    // drafting goes on until the time it has lost by the estimates since they last favoured it
    // reaches one catch-up (a cumulative sum: a lasting loss stops it soon, noise seldom does).
    // Not after a probe: there the estimates did not favour drafting, and it stops at once
    if (draftingPaid && estimates.drafterCaughtUp()) {
      lostToDrafting += bestCommitted / bestRate - bestCommitted * plainNanos;
      if (lostToDrafting < estimates.catchUpNanos()) {
        return best;
      }
    }
    lostToDrafting = 0;
    draftingPaid = false;
    return new Choice(0, best.width());
  }

  /**
   * False when even drafts that are always accepted would commit fewer tokens per second than plain
   * decoding at the measured costs (the narrowest level, every depth whose verification cost rests
   * on measurements): then probing for a rise in acceptance cannot find one that pays, and costs
   * what the drafter's catch-up and the larger verification take. A depth priced by a guess does
   * not count: after a long stretch of plain steps only one row count is remembered, the cost of
   * more rows looked flat, every depth looked nearly free to verify, and the probes this set off
   * paid the drafter's catch-up every thousand steps.
   */
  private boolean couldPay(int occupancy) {
    double plain = 1 / expectedNanos(0, 0, occupancy);
    for (int depth = 1; depth <= shape.maxDepth(); depth++) {
      double rows = (double) occupancy * (widths.get(0).nodes(depth) + 1);
      if (estimates.measuresVerification(rows)
          && (1 + depth) / expectedNanos(depth, 0, occupancy) > plain) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code maxProbeEvery}, or longer where a probe's catch-up ({@link
   * BudgetEstimates#catchUpNanos}) would otherwise cost more than {@link #PROBE_SHARE} of the plain
   * steps between probes.
   */
  private int longestProbePeriod(int occupancy) {
    double plainStep = expectedNanos(0, 0, occupancy);
    double covering = estimates.catchUpNanos() / (PROBE_SHARE * plainStep);
    return (int) Math.max(settings.maxProbeEvery(), Math.min(covering, LONGEST_PROBE_PERIOD));
  }

  private double expectedNanos(int depth, int width, int occupancy) {
    double rows = (double) occupancy * (widths.get(width).nodes(depth) + 1);
    return Math.max(1, estimates.draftNanos(width, depth) + estimates.verifyNanos(rows));
  }
}
