package io.specd.policies.bandit;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.policies.DraftShape;
import io.specd.policies.budget.BudgetPolicy;
import io.specd.policies.budget.BudgetSettings;
import io.specd.policies.sim.Scenario;
import io.specd.policies.sim.Scenarios;
import io.specd.policies.sim.SimulationTrace;
import io.specd.policies.sim.Simulator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bandit's regret against the best fixed arm, step by step, on the simulator's known processes:
 * the report of docs/BENCHMARKS.md §2 (printed by this test), and the check that the regret grows
 * ever slower once the best arm is found.
 */
class BanditRegretTest {
  private static final int[] CHECKPOINTS = {100, 300, 1000, 3000};
  private static final int SEEDS = 5;

  static Stream<Arguments> scenarios() {
    return Stream.of(
        Arguments.of(
            "good chain", Scenarios.of(Scenarios.GOOD, Scenarios.CPU), DraftShape.chain(6)),
        Arguments.of(
            "middling chain", Scenarios.of(Scenarios.MIDDLING, Scenarios.CPU), DraftShape.chain(6)),
        Arguments.of(
            "good tree", Scenarios.of(Scenarios.GOOD, Scenarios.CPU), DraftShape.tree(4, 10, 8)),
        Arguments.of(
            "full batch tree",
            Scenarios.of(Scenarios.GOOD, Scenarios.CPU).withOccupancy(16),
            DraftShape.tree(4, 10, 8)),
        Arguments.of(
            "poor chain",
            Scenarios.of(Scenarios.POOR, Scenarios.SLOW_DRAFTER),
            DraftShape.chain(6)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void shouldLoseEverFewerTokensPerStepToTheBestArm(
      String label, Scenario scenario, DraftShape shape) {
    double[] regret = new double[CHECKPOINTS.length];
    double planner = 0;
    double bestTokens = 0;
    int last = CHECKPOINTS[CHECKPOINTS.length - 1];
    for (long seed = 1; seed <= SEEDS; seed++) {
      ArmCatalog arms = ArmCatalog.from(shape);
      double best = Scenarios.bestFixedTokensPerSecond(scenario, arms.arms(), last, seed);
      SimulationTrace trace =
          new Simulator(scenario, seed)
              .run(
                  new BanditPolicy(arms, new PriorRegistry(), BanditSettings.DEFAULTS, seed), last);
      for (int c = 0; c < CHECKPOINTS.length; c++) {
        regret[c] += trace.regretTokens(CHECKPOINTS[c], best) / SEEDS;
      }
      planner +=
          new Simulator(scenario, seed)
                  .run(new BudgetPolicy(shape, BudgetSettings.DEFAULTS), last)
                  .regretTokens(last, best)
              / SEEDS;
      bestTokens +=
          best * trace.outcomes().stream().mapToLong(o -> o.stepNanos()).sum() / 1e9 / SEEDS;
    }
    StringBuilder row = new StringBuilder(String.format("| %s |", label));
    for (int c = 0; c < CHECKPOINTS.length; c++) {
      row.append(String.format(" %.1f (%.3f) |", regret[c], regret[c] / CHECKPOINTS[c]));
    }
    row.append(String.format(" %.1f%% |", 100 * regret[regret.length - 1] / bestTokens));
    row.append(String.format(" %.1f |", planner));
    System.out.println(row);

    // per step, the last stretch loses less than the first: the learner settles
    double early = regret[1] / CHECKPOINTS[1];
    double late = (regret[3] - regret[1]) / (CHECKPOINTS[3] - CHECKPOINTS[1]);
    assertThat(late)
        .as("%s: regret per step after %d steps", label, CHECKPOINTS[1])
        .isLessThan(Math.max(early, 0.02));
  }
}
