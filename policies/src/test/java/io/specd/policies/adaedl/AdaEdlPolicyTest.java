package io.specd.policies.adaedl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.specd.policies.DraftShape;
import io.specd.policies.sim.AcceptanceProcess;
import io.specd.policies.sim.Scenario;
import io.specd.policies.sim.Scenarios;
import io.specd.policies.sim.SignalModel;
import io.specd.policies.sim.Simulator;
import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;
import org.junit.jupiter.api.Test;

class AdaEdlPolicyTest {
  private static final DraftShape CHAIN = DraftShape.chain(6);

  /**
   * The mean λ over steps 500 to 1500 of a drafter whose estimates are its tokens' acceptance
   * probabilities times {@code calibration}. The Bayes threshold λ should settle at is the
   * break-even acceptance 0.25 times the calibration.
   */
  private static double settledLambda(double initial, double calibration, double acceptance) {
    Scenario scenario =
        Scenario.of(AcceptanceProcess.constant(acceptance), Scenarios.CPU)
            .withSignals(new SignalModel(0.8, calibration, 0.05));
    AdaEdlPolicy policy = new AdaEdlPolicy(CHAIN, new AdaEdlSettings(initial, 0.2, 0.25, 512));
    Simulator simulator = new Simulator(scenario, 9);
    simulator.run(policy, 500);
    double sum = 0;
    for (int i = 0; i < 100; i++) {
      simulator.run(policy, 10);
      sum += policy.lambda();
    }
    return sum / 100;
  }

  @Test
  void shouldDraftToFullDepthWithTheEntropyStopRule() {
    AdaEdlPolicy policy = new AdaEdlPolicy(CHAIN, new AdaEdlSettings(0.6, 0.3, 0.25, 64));

    Plan plan = policy.plan(new DraftContext("kangaroo", 0, 0, 1));

    assertThat(plan).isEqualTo(Plan.chain(6, StopRule.entropy(0.6, 0.3)));
  }

  @Test
  void shouldLowerLambdaWhenDraftsAreAcceptedMoreOftenThanEstimated() {
    assertThat(settledLambda(0.5, 0.5, 0.4)).isLessThan(0.2);
  }

  @Test
  void shouldRaiseLambdaWhenDraftsAreRejectedMoreOftenThanEstimated() {
    assertThat(settledLambda(0.2, 2.0, 0.25)).isGreaterThan(0.4);
  }

  @Test
  void shouldSettleAtTheBreakEvenAcceptanceForACalibratedDrafter() {
    assertThat(settledLambda(0.5, 1.0, 0.4)).isCloseTo(0.25, within(0.07));
  }

  @Test
  void shouldKeepItsInitialLambdaUntilEnoughDraftsAreVerified() {
    AdaEdlPolicy policy = new AdaEdlPolicy(CHAIN, AdaEdlSettings.DEFAULTS);
    new Simulator(Scenarios.of(Scenarios.GOOD, Scenarios.CPU), 1).run(policy, 3);

    assertThat(policy.lambda()).isEqualTo(0.5);
  }

  @Test
  void shouldIgnoreDraftTokensAfterTheFirstRejection() {
    AdaEdlPolicy policy = new AdaEdlPolicy(CHAIN, AdaEdlSettings.DEFAULTS);
    double[] line = {0.9, 0.9, 0.9, 0.9, 0.9};

    policy.reward(outcome(line, 1));
    policy.reward(outcome(line, 5));

    assertThat(policy.observations()).isEqualTo(2 + 5);
  }

  @Test
  void shouldLearnNothingFromPlainDecodingSteps() {
    AdaEdlPolicy policy = new AdaEdlPolicy(CHAIN, AdaEdlSettings.DEFAULTS);

    policy.reward(
        new Outcome(Plan.NO_SPECULATION, 0, 0, 0, new double[0], new double[0], 0, 0, 1000, 1, 1));

    assertThat(policy.observations()).isZero();
  }

  private static Outcome outcome(double[] confidence, int lineAccepted) {
    double[] entropy = new double[confidence.length];
    for (int i = 0; i < entropy.length; i++) {
      entropy[i] = SignalModel.entropy(confidence[i]);
    }
    return new Outcome(
        Plan.chain(confidence.length, StopRule.NONE),
        confidence.length,
        confidence.length,
        lineAccepted,
        confidence,
        entropy,
        lineAccepted,
        1000,
        1000,
        1,
        confidence.length + 1);
  }
}
