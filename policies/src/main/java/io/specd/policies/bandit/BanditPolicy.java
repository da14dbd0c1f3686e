package io.specd.policies.bandit;

import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * The reinforcement learner: a multi-armed bandit that picks a whole {@link Plan} (an arm of an
 * {@link ArmCatalog}, "no speculation" included) before every step, rewarded with the tokens the
 * step committed per unit of its measured wall time ({@link Outcome#committed()} / {@link
 * Outcome#stepNanos()}). A plain decoding step commits one token and still costs a target forward,
 * so the bandit learns when drafting stops paying: poor drafts, or full verification batches that
 * make every drafted node expensive.
 *
 * <p><b>Estimate.</b> Per arm and batch-occupancy band the posterior keeps discounted sums of
 * committed tokens and costs; the arm's value is their ratio, its long-run throughput, with a
 * delta-method standard error (see {@code ArmStatistics}). Costs are normalised by that ratio
 * alone, so their unit and the machine's speed do not matter, and single-step cost spikes are
 * clipped.
 *
 * <p><b>Exploration: discounted Thompson sampling.</b> Each step draws every arm's throughput from
 * a normal around its estimate and plays the best draw; arms never played in a band are played
 * first. Thompson sampling was chosen over UCB because its exploration scales with each arm's own
 * measured noise (accepted lengths vary far more for deep drafts than for shallow ones, and wall
 * times are noisy) where UCB needs a known reward range, because it takes the shared prior as plain
 * pseudo-observations, and because its randomised choices stay robust when many requests update one
 * prior with delayed feedback. <b>Non-stationarity</b> is handled by discounting (Garivier and
 * Moulines' discounted bandits): every step in a band multiplies that band's past weights by {@link
 * BanditSettings#discount()}, so the statistics of an arm that is no longer played lose weight, its
 * uncertainty grows, and it is drawn again; after the acceptance process changes, the bandit moves
 * to the new best arm within a few hundred steps.
 *
 * <p><b>Prior and posterior.</b> On its first {@link #plan} the policy looks up the shared prior of
 * its drafter and temperature band in the {@link PriorRegistry} and copies it, each arm capped at
 * {@link BanditSettings#priorWeight()} pseudo-steps, as its posterior; every step then updates both
 * the posterior and the shared prior. A step is credited to the occupancy band of the batch it was
 * verified in ({@link Outcome#batchSize()}); plans are chosen in the band of {@link
 * DraftContext#batchOccupancy()}. Outcomes of plans that are not arms are ignored.
 *
 * <p>Deterministic for a given seed and sequence of outcomes, provided the shared prior is not
 * updated by other requests meanwhile. One instance serves one request; not thread-safe (the shared
 * prior is).
 */
public final class BanditPolicy implements DraftPolicy {
  private static final double NANOS_PER_COST_UNIT = 1e6;

  private final ArmCatalog arms;
  private final PriorRegistry priors;
  private final BanditSettings settings;
  private final RandomGenerator random;
  private SharedPrior prior;
  private RewardTable posterior;

  /**
   * @param arms the plans to choose among
   * @param priors where the prior shared with other requests lives
   * @param settings forgetting, prior weight and assumed noise
   * @param seed seed of this request's random choices
   */
  public BanditPolicy(ArmCatalog arms, PriorRegistry priors, BanditSettings settings, long seed) {
    this.arms = arms;
    this.priors = priors;
    this.settings = settings;
    this.random = new SplittableRandom(seed);
  }

  @Override
  public String name() {
    return "bandit";
  }

  @Override
  public Plan plan(DraftContext context) {
    if (posterior == null) {
      prior = priors.prior(context.drafter(), context.temperature(), arms);
      posterior = prior.snapshot(settings.priorWeight());
    }
    int band = RewardTable.band(context.batchOccupancy());
    return arms.plan(posterior.sample(band, random, settings.spread()));
  }

  @Override
  public void reward(Outcome outcome) {
    int arm = arms.indexOf(outcome.plan());
    if (posterior == null || arm < 0) {
      return;
    }
    int band = RewardTable.band(outcome.batchSize());
    double cost = Math.max(1, outcome.stepNanos()) / NANOS_PER_COST_UNIT;
    posterior.observe(band, arm, outcome.committed(), cost, settings.discount());
    prior.observe(band, arm, outcome.committed(), cost);
  }
}
