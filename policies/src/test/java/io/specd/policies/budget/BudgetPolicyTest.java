package io.specd.policies.budget;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.policies.DraftShape;
import io.specd.policies.bandit.ArmCatalog;
import io.specd.policies.sim.Scenario;
import io.specd.policies.sim.Scenarios;
import io.specd.policies.sim.SimulationTrace;
import io.specd.policies.sim.Simulator;
import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BudgetPolicyTest {
  private static final DraftShape MEDUSA = DraftShape.tree(4, 10, 8);
  private static final DraftShape CHAIN = DraftShape.chain(6);

  private static SimulationTrace run(Scenario scenario, DraftShape shape, int steps) {
    return new Simulator(scenario, 4).run(new BudgetPolicy(shape, BudgetSettings.DEFAULTS), steps);
  }

  @Test
  void shouldDraftTheFullShapeBeforeAnyOutcome() {
    Plan plan =
        new BudgetPolicy(MEDUSA, BudgetSettings.DEFAULTS).plan(new DraftContext("medusa", 0, 0, 1));

    assertThat(plan.maxDepth()).isEqualTo(4);
    assertThat(plan.nodeBudget()).isEqualTo(32);
  }

  @ParameterizedTest(name = "batch occupancy {0}")
  @ValueSource(ints = {1, 16})
  void shouldApproachTheBestFixedBudget(int occupancy) {
    Scenario scenario = Scenarios.of(Scenarios.GOOD, Scenarios.CPU).withOccupancy(occupancy);
    double best =
        Scenarios.bestFixedTokensPerSecond(scenario, ArmCatalog.from(MEDUSA).arms(), 3000, 4);

    double learnt = run(scenario, MEDUSA, 3000).tokensPerSecond();

    assertThat(learnt / best).isGreaterThan(0.9);
  }

  @Test
  void shouldDraftDeeperWhenAcceptanceIsHigher() {
    double good = run(Scenarios.of(Scenarios.GOOD, Scenarios.CPU), CHAIN, 2000).meanPlannedDepth();
    double middling =
        run(Scenarios.of(Scenarios.MIDDLING, Scenarios.CPU), CHAIN, 2000).meanPlannedDepth();

    assertThat(good).isGreaterThan(middling + 1);
  }

  @Test
  void shouldShrinkTheBudgetWhenBatchOccupancyMakesVerificationExpensive() {
    Scenario alone = Scenarios.of(Scenarios.GOOD, Scenarios.CPU);

    double nodesAlone = meanNodeBudget(run(alone, MEDUSA, 2000).since(1000));
    double nodesInFullBatch =
        meanNodeBudget(run(alone.withOccupancy(16), MEDUSA, 2000).since(1000));

    assertThat(nodesInFullBatch).isLessThan(nodesAlone / 2);
  }

  @Test
  void shouldStopSpeculatingWhenDraftingNeverPays() {
    SimulationTrace trace = run(Scenarios.of(Scenarios.POOR, Scenarios.SLOW_DRAFTER), CHAIN, 2000);

    assertThat(trace.since(1000).share(plan -> !plan.speculate())).isGreaterThan(0.9);
  }

  private static double meanNodeBudget(SimulationTrace trace) {
    return trace.outcomes().stream()
        .map(Outcome::plan)
        .mapToInt(Plan::nodeBudget)
        .average()
        .orElseThrow();
  }
}
