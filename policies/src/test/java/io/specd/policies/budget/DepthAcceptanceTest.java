package io.specd.policies.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class DepthAcceptanceTest {

  @Test
  void shouldEstimateSurvivalFromConditionalAcceptancePerDepth() {
    DepthAcceptance acceptance = new DepthAcceptance(2);
    for (int i = 0; i < 1000; i++) {
      // depth 1 accepted 4 times in 5, depth 2 then accepted 1 time in 2
      int accepted = i % 5 == 0 ? 0 : (i % 2 == 0 ? 2 : 1);
      acceptance.observe(2, accepted, 1);
    }

    double[] survival = acceptance.survival();

    assertThat(survival[0]).isCloseTo(0.8, within(0.01));
    assertThat(survival[1]).isCloseTo(0.4, within(0.01));
  }

  @Test
  void shouldAssumeUnmeasuredDepthsDoAsWellAsTheDeepestMeasured() {
    DepthAcceptance acceptance = new DepthAcceptance(4);
    for (int i = 0; i < 1000; i++) {
      acceptance.observe(1, i % 10 == 0 ? 0 : 1, 1);
    }

    double[] survival = acceptance.survival();

    assertThat(survival[3]).isCloseTo(Math.pow(0.9, 4), within(0.01));
  }

  /**
   * A server's estimates outlive requests (the drafter's memory hands them on): after tens of
   * thousands of drafted steps a fall in acceptance must still show within the forgetting's memory.
   */
  @Test
  void shouldFollowAFallInAcceptanceAfterAVeryLongRun() {
    DepthAcceptance acceptance = new DepthAcceptance(2);
    for (int i = 0; i < 40_000; i++) {
      acceptance.observe(1, 1, 0.98);
    }
    for (int i = 0; i < 200; i++) {
      acceptance.observe(1, 0, 0.98);
    }

    assertThat(acceptance.survival()[0]).isLessThan(0.05);
  }

  @Test
  void aDepthNeverReachedShouldBorrowTheDepthAboveAfterThePriorHasDecayedAway() {
    DepthAcceptance acceptance = new DepthAcceptance(3);
    for (int i = 0; i < 60_000; i++) { // 0.98^60000 underflows: the prior's weight is 0
      acceptance.observe(1, i % 2, 0.98);
    }

    double[] survival = acceptance.survival();

    assertThat(survival[0]).isBetween(0.4, 0.6);
    assertThat(survival[2]).isCloseTo(Math.pow(survival[0], 3), within(1e-9));
  }
}
