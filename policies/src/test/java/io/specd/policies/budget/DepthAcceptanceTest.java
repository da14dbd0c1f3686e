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
}
