package io.specd.policies.sim;

import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Simulates speculative decoding steps without a model, so policies can be tested and compared
 * against known acceptance processes and costs.
 *
 * <p>A step drafts the plan's main line depth by depth: each token gets an acceptance probability
 * from the {@link AcceptanceProcess} and {@link SignalModel}, the drafter reports a confidence and
 * an entropy for it, and drafting stops after the first token that fails the plan's stop rule (that
 * token is kept, as drafters do) or at the plan's depth. A tree plan spends its node budget in
 * proportion to the depth actually drafted, and its extra candidates per level (up to the
 * branching) stand beside the main line. Verification walks the main line: each token is accepted
 * with its probability; at the first rejection one of the extra candidates may be accepted instead
 * ({@link AcceptanceProcess#siblingGain()} each), which ends the walk, as those candidates are
 * leaves here. Costs come from the {@link CostModel} at the scenario's batch occupancy.
 *
 * <p>Deterministic for a given seed and sequence of plans. Not thread-safe.
 */
public final class Simulator {
  private final Scenario scenario;
  private final RandomGenerator random;
  private long step;
  private int generated;

  /**
   * @param scenario what to simulate
   * @param seed seed of every random draw
   */
  public Simulator(Scenario scenario, long seed) {
    this.scenario = scenario;
    this.random = new SplittableRandom(seed);
  }

  /** Runs {@code steps} steps of a policy: plan, simulate, reward. */
  public SimulationTrace run(DraftPolicy policy, int steps) {
    List<Outcome> outcomes = new ArrayList<>(steps);
    for (int i = 0; i < steps; i++) {
      Plan plan =
          policy.plan(
              new DraftContext(
                  scenario.drafter(),
                  scenario.temperature(),
                  generated,
                  scenario.batchOccupancy()));
      Outcome outcome = step(plan);
      policy.reward(outcome);
      outcomes.add(outcome);
    }
    return new SimulationTrace(outcomes);
  }

  /** Simulates one step following {@code plan}. */
  public Outcome step(Plan plan) {
    long now = step++;
    int batch = scenario.batchOccupancy();
    CostModel costs = scenario.costs();
    if (!plan.speculate()) {
      generated++;
      return new Outcome(
          plan,
          0,
          0,
          0,
          new double[0],
          new double[0],
          0,
          0,
          costs.verifyNanos(0, batch, random),
          batch,
          batch);
    }
    MainLine line = draft(plan, now);
    int depth = line.confidence().length;
    int nodes =
        Math.max(depth, (int) Math.ceil((double) plan.nodeBudget() * depth / plan.maxDepth()));
    int siblings = Math.min(plan.branching(), nodes / depth) - 1;
    int lineAccepted = 0;
    while (lineAccepted < depth && random.nextDouble() < line.probability()[lineAccepted]) {
      lineAccepted++;
    }
    int accepted = lineAccepted;
    double siblingAccepted = 1 - Math.pow(1 - scenario.acceptance().siblingGain(), siblings);
    if (lineAccepted < depth && random.nextDouble() < siblingAccepted) {
      accepted++;
    }
    generated += accepted + 1;
    return new Outcome(
        plan,
        nodes,
        depth,
        accepted,
        line.confidence(),
        Arrays.stream(line.confidence()).map(SignalModel::entropy).toArray(),
        lineAccepted,
        costs.draftNanos(depth, random),
        costs.verifyNanos(nodes, batch, random),
        batch,
        batch * (nodes + 1)); // the batch's sequences draft alike
  }

  /** The drafted main line: each token's true acceptance probability and reported confidence. */
  private record MainLine(double[] probability, double[] confidence) {}

  private MainLine draft(Plan plan, long now) {
    SignalModel signals = scenario.signals();
    double[] probability = new double[plan.maxDepth()];
    double[] confidence = new double[plan.maxDepth()];
    int depth = 0;
    boolean stopped = false;
    while (depth < plan.maxDepth() && !stopped) {
      probability[depth] =
          signals.tokenProbability(scenario.acceptance().at(depth + 1, now), random);
      confidence[depth] = signals.estimate(probability[depth], random);
      stopped = plan.stop().shouldStop(confidence[depth], SignalModel.entropy(confidence[depth]));
      depth++;
    }
    return new MainLine(Arrays.copyOf(probability, depth), Arrays.copyOf(confidence, depth));
  }
}
