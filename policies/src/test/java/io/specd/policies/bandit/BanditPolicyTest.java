package io.specd.policies.bandit;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.policies.DraftShape;
import io.specd.policies.sim.AcceptanceProcess;
import io.specd.policies.sim.Scenario;
import io.specd.policies.sim.Scenarios;
import io.specd.policies.sim.SimulationTrace;
import io.specd.policies.sim.Simulator;
import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BanditPolicyTest {
  private static final DraftShape CHAIN = DraftShape.chain(6);
  private static final DraftShape MEDUSA = DraftShape.tree(4, 10, 8);
  private static final Predicate<Plan> NO_DRAFT = plan -> !plan.speculate();
  private static final Predicate<Plan> WEAK_DRAFT = plan -> plan.maxDepth() <= 1;

  private static BanditPolicy bandit(DraftShape shape, PriorRegistry priors, long seed) {
    return new BanditPolicy(ArmCatalog.from(shape), priors, BanditSettings.DEFAULTS, seed);
  }

  private static SimulationTrace run(Scenario scenario, DraftShape shape, int steps, long seed) {
    return new Simulator(scenario, seed).run(bandit(shape, new PriorRegistry(), seed), steps);
  }

  static Stream<Arguments> knownProcesses() {
    return Stream.of(
        Arguments.of("good chain", Scenarios.of(Scenarios.GOOD, Scenarios.CPU), CHAIN),
        Arguments.of("middling chain", Scenarios.of(Scenarios.MIDDLING, Scenarios.CPU), CHAIN),
        Arguments.of("good tree", Scenarios.of(Scenarios.GOOD, Scenarios.CPU), MEDUSA),
        Arguments.of(
            "full batch tree",
            Scenarios.of(Scenarios.GOOD, Scenarios.CPU).withOccupancy(16),
            MEDUSA),
        Arguments.of("poor chain", Scenarios.of(Scenarios.POOR, Scenarios.SLOW_DRAFTER), CHAIN));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("knownProcesses")
  void shouldApproachTheBestFixedArmThroughput(String label, Scenario scenario, DraftShape shape) {
    for (long seed = 1; seed <= 3; seed++) {
      double best =
          Scenarios.bestFixedTokensPerSecond(scenario, ArmCatalog.from(shape).arms(), 3000, seed);

      double learnt = run(scenario, shape, 3000, seed).tokensPerSecond();

      assertThat(learnt / best)
          .as("%s, seed %d: bandit over best arm", label, seed)
          .isGreaterThan(0.88);
    }
  }

  @Test
  void shouldPickNoSpeculationWhenDraftingNeverPays() {
    Scenario scenario = Scenarios.of(Scenarios.POOR, Scenarios.SLOW_DRAFTER);

    SimulationTrace trace = run(scenario, CHAIN, 3000, 5);

    assertThat(trace.since(2000).share(NO_DRAFT)).isGreaterThan(0.8);
  }

  @Test
  void shouldStopDraftingWhenAcceptanceCollapsesMidStream() {
    Scenario scenario =
        Scenario.of(
            AcceptanceProcess.changing(Scenarios.GOOD, 1500, Scenarios.POOR),
            Scenarios.SLOW_DRAFTER);

    SimulationTrace trace = run(scenario, CHAIN, 3000, 7);

    SimulationTrace beforeChange = new SimulationTrace(trace.outcomes().subList(1000, 1500));
    assertThat(beforeChange.share(NO_DRAFT)).isLessThan(0.05);
    assertThat(beforeChange.meanPlannedDepth()).isGreaterThan(3);
    assertThat(trace.since(2500).share(NO_DRAFT)).isGreaterThan(0.8);
  }

  @Test
  void shouldResumeDeepDraftsWhenAcceptanceRecoversMidStream() {
    Scenario scenario =
        Scenario.of(
            AcceptanceProcess.changing(Scenarios.POOR, 1500, Scenarios.GOOD),
            Scenarios.SLOW_DRAFTER);

    SimulationTrace trace = run(scenario, CHAIN, 3000, 7);

    SimulationTrace beforeChange = new SimulationTrace(trace.outcomes().subList(1000, 1500));
    assertThat(beforeChange.share(NO_DRAFT)).isGreaterThan(0.8);
    assertThat(trace.since(2500).share(NO_DRAFT)).isLessThan(0.05);
    assertThat(trace.since(2500).meanPlannedDepth()).isGreaterThan(3);
  }

  @Test
  void shouldPreferShorterDraftsWhenBatchOccupancyMakesVerificationExpensive() {
    Scenario alone = Scenarios.of(Scenarios.GOOD, Scenarios.CPU);

    double depthAlone = run(alone, MEDUSA, 3000, 3).since(1500).meanPlannedDepth();
    double depthInFullBatch =
        run(alone.withOccupancy(16), MEDUSA, 3000, 3).since(1500).meanPlannedDepth();

    assertThat(depthInFullBatch).isLessThan(depthAlone - 1);
  }

  @Test
  void shouldRepeatItsChoicesForTheSameSeed() {
    Scenario scenario = Scenarios.of(Scenarios.MIDDLING, Scenarios.CPU);

    List<Plan> first = plans(run(scenario, MEDUSA, 500, 42));
    List<Plan> second = plans(run(scenario, MEDUSA, 500, 42));
    List<Plan> otherSeed =
        plans(new Simulator(scenario, 42).run(bandit(MEDUSA, new PriorRegistry(), 43), 500));

    assertThat(first).isEqualTo(second).isNotEqualTo(otherSeed);
  }

  @Test
  void shouldStartTheNextRequestFromWhatEarlierRequestsLearnt() {
    Scenario scenario = Scenarios.of(Scenarios.GOOD, Scenarios.CPU);
    PriorRegistry shared = new PriorRegistry();
    new Simulator(scenario, 1).run(bandit(CHAIN, shared, 1), 2000);

    SimulationTrace warm = new Simulator(scenario, 2).run(bandit(CHAIN, shared, 2), 50);
    SimulationTrace cold =
        new Simulator(scenario, 2).run(bandit(CHAIN, new PriorRegistry(), 2), 50);

    // a cold request must try every arm once, plain decoding and 1-token drafts included
    assertThat(cold.share(WEAK_DRAFT)).isGreaterThanOrEqualTo(2 / 50.0);
    assertThat(warm.share(WEAK_DRAFT)).isZero();
  }

  @Test
  void shouldKeepOnePriorPerDrafterAndTemperatureBand() {
    PriorRegistry priors = new PriorRegistry();
    Scenario base = Scenarios.of(Scenarios.GOOD, Scenarios.CPU);
    for (String drafter : List.of("kangaroo", "medusa")) {
      for (double temperature : List.of(0.0, 0.3, 0.5, 1.0)) {
        Scenario scenario =
            new Scenario(base.acceptance(), base.costs(), base.signals(), 1, drafter, temperature);
        new Simulator(scenario, 1).run(bandit(CHAIN, priors, 1), 10);
      }
    }

    assertThat(priors.size()).isEqualTo(2 * TemperatureBand.values().length);
  }

  @Test
  void shouldLearnSafelyWhenRequestsShareAPriorConcurrently() throws Exception {
    Scenario scenario = Scenarios.of(Scenarios.GOOD, Scenarios.CPU);
    PriorRegistry shared = new PriorRegistry();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<SimulationTrace>> runs = new ArrayList<>();
      for (long seed = 1; seed <= 8; seed++) {
        long requestSeed = seed;
        runs.add(
            pool.submit(
                () ->
                    new Simulator(scenario, requestSeed)
                        .run(bandit(CHAIN, shared, requestSeed), 1000)));
      }
      for (Future<SimulationTrace> request : runs) {
        assertThat(request.get().since(500).meanPlannedDepth()).isGreaterThan(3);
      }
    } finally {
      pool.shutdown();
    }
    assertThat(shared.size()).isEqualTo(1);
  }

  @Test
  void shouldIgnoreOutcomesOfPlansThatAreNotArms() {
    BanditPolicy rewarded = bandit(CHAIN, new PriorRegistry(), 1);
    BanditPolicy untouched = bandit(CHAIN, new PriorRegistry(), 1);
    Simulator simulator = new Simulator(Scenarios.of(Scenarios.GOOD, Scenarios.CPU), 1);
    DraftContext context = new DraftContext("simulated", 0, 0, 1);
    rewarded.plan(context);
    untouched.plan(context);

    rewarded.reward(simulator.step(Plan.chain(5, StopRule.NONE)));

    for (int step = 0; step < 50; step++) {
      Plan plan = rewarded.plan(context);
      assertThat(untouched.plan(context)).isEqualTo(plan);
      Outcome outcome = simulator.step(plan);
      rewarded.reward(outcome);
      untouched.reward(outcome);
    }
  }

  private static List<Plan> plans(SimulationTrace trace) {
    return trace.outcomes().stream().map(Outcome::plan).toList();
  }
}
