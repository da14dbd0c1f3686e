package io.specd.policies.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;
import java.util.List;
import org.junit.jupiter.api.Test;

class SimulatorTest {
  private static final CostModel EXACT_COSTS = new CostModel(2_000_000, 50_000, 300_000, 0);

  private static List<Outcome> run(Scenario scenario, Plan plan, int steps) {
    return new Simulator(scenario, 11).run(new StaticPolicy("test", plan), steps).outcomes();
  }

  @Test
  void shouldAcceptTheFirstDraftTokenAtTheProcessRate() {
    Scenario scenario = Scenario.of(AcceptanceProcess.constant(0.7), EXACT_COSTS);

    double accepted =
        run(scenario, Plan.chain(1, StopRule.NONE), 20_000).stream()
            .mapToInt(Outcome::accepted)
            .average()
            .orElseThrow();

    assertThat(accepted).isCloseTo(0.7, within(0.015));
  }

  @Test
  void shouldSwitchAcceptanceAtTheChangeStep() {
    Scenario scenario =
        Scenario.of(
            AcceptanceProcess.changing(new double[] {0.9}, 1000, new double[] {0.1}), EXACT_COSTS);

    List<Outcome> outcomes = run(scenario, Plan.chain(1, StopRule.NONE), 2000);

    assertThat(meanAccepted(outcomes.subList(0, 1000))).isCloseTo(0.9, within(0.04));
    assertThat(meanAccepted(outcomes.subList(1000, 2000))).isCloseTo(0.1, within(0.04));
  }

  @Test
  void shouldRecoverRejectionsWithTreeSiblings() {
    Scenario scenario = Scenario.of(AcceptanceProcess.constant(0.5), EXACT_COSTS);

    double chain = meanAccepted(run(scenario, Plan.chain(1, StopRule.NONE), 5000));
    double tree = meanAccepted(run(scenario, Plan.tree(1, 4, 4, StopRule.NONE), 5000));

    // 1 - 0.5 · 0.7³ = 0.83
    assertThat(tree).isCloseTo(0.83, within(0.03)).isGreaterThan(chain + 0.25);
  }

  @Test
  void shouldStopDraftingAfterTheFirstTokenFailingTheStopRule() {
    Scenario scenario = Scenario.of(AcceptanceProcess.constant(0.9), EXACT_COSTS);

    List<Outcome> outcomes = run(scenario, Plan.chain(6, StopRule.confidence(1.0)), 100);

    assertThat(outcomes).allSatisfy(o -> assertThat(o.draftedDepth()).isEqualTo(1));
  }

  @Test
  void shouldChargeVerificationPerRowOfTheWholeBatch() {
    Scenario scenario = Scenario.of(AcceptanceProcess.constant(0.5), EXACT_COSTS);

    Outcome alone = run(scenario, Plan.tree(2, 8, 4, StopRule.NONE), 1).get(0);
    Outcome full = run(scenario.withOccupancy(16), Plan.tree(2, 8, 4, StopRule.NONE), 1).get(0);

    assertThat(alone.verifyNanos()).isEqualTo(2_000_000 + 50_000 * 9);
    assertThat(full.verifyNanos()).isEqualTo(2_000_000 + 50_000 * 16 * 9);
    assertThat(full.draftNanos()).isEqualTo(600_000);
    assertThat(full.batchSize()).isEqualTo(16);
  }

  @Test
  void shouldCostOneForwardAndCommitOneTokenWithoutSpeculation() {
    Scenario scenario = Scenario.of(AcceptanceProcess.constant(0.5), EXACT_COSTS);

    Outcome outcome = run(scenario, Plan.NO_SPECULATION, 1).get(0);

    assertThat(outcome.committed()).isEqualTo(1);
    assertThat(outcome.stepNanos()).isEqualTo(2_050_000);
  }

  @Test
  void shouldReportHigherConfidenceAndLowerEntropyForAcceptedTokens() {
    Scenario scenario = Scenario.of(AcceptanceProcess.constant(0.5), EXACT_COSTS);
    List<Outcome> outcomes = run(scenario, Plan.chain(1, StopRule.NONE), 5000);

    double acceptedConfidence = firstConfidence(outcomes, true);
    double rejectedConfidence = firstConfidence(outcomes, false);

    assertThat(acceptedConfidence).isGreaterThan(rejectedConfidence + 0.15);
    assertThat(SignalModel.entropy(acceptedConfidence))
        .isLessThan(SignalModel.entropy(rejectedConfidence));
  }

  @Test
  void shouldRepeatARunForTheSameSeed() {
    Scenario scenario =
        Scenario.of(
            AcceptanceProcess.constant(0.8, 0.6), new CostModel(2_000_000, 50_000, 300_000, 0.1));
    Plan plan = Plan.tree(3, 12, 4, StopRule.entropy(0.4, 0.2));

    List<Outcome> first = run(scenario, plan, 200);
    List<Outcome> second = run(scenario, plan, 200);

    assertThat(first)
        .usingRecursiveFieldByFieldElementComparator()
        .containsExactlyElementsOf(second);
  }

  private static double meanAccepted(List<Outcome> outcomes) {
    return outcomes.stream().mapToInt(Outcome::accepted).average().orElseThrow();
  }

  private static double firstConfidence(List<Outcome> outcomes, boolean accepted) {
    return outcomes.stream()
        .filter(o -> (o.lineAccepted() > 0) == accepted)
        .mapToDouble(o -> o.lineConfidence()[0])
        .average()
        .orElseThrow();
  }
}
