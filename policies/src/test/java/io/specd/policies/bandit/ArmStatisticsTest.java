package io.specd.policies.bandit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ArmStatisticsTest {

  @Test
  void shouldRateAnArmByCommittedTokensOverTotalCost() {
    ArmStatistics arm = new ArmStatistics();
    arm.add(1, 1);
    arm.add(5, 3);

    assertThat(arm.rate()).isCloseTo(1.5, within(1e-12));
  }

  @Test
  void shouldClipACostSpikeToFiveTimesTheMean() {
    ArmStatistics arm = new ArmStatistics();
    arm.add(2, 1);
    arm.add(2, 1000);

    assertThat(arm.rate()).isCloseTo(4.0 / 6, within(1e-12));
  }

  @Test
  void shouldGrowMoreCertainWithMoreSteps() {
    ArmStatistics few = new ArmStatistics();
    ArmStatistics many = new ArmStatistics();
    for (int i = 0; i < 100; i++) {
      ArmStatistics arm = i < 4 ? few : many;
      arm.add(1 + i % 3, 1);
      if (i < 4) {
        many.add(1 + i % 3, 1);
      }
    }

    assertThat(many.standardError(0.25)).isLessThan(few.standardError(0.25) / 3);
  }

  @Test
  void shouldGrowLessCertainAsItsStepsAreDiscounted() {
    ArmStatistics arm = new ArmStatistics();
    for (int i = 0; i < 20; i++) {
      arm.add(1 + i % 3, 1);
    }
    double before = arm.standardError(0.25);

    arm.discount(0.25);

    assertThat(arm.standardError(0.25)).isCloseTo(before * 2, within(before * 0.1));
    assertThat(arm.rate()).isCloseTo(2, within(0.1));
  }

  @Test
  void shouldCapTheWeightOfACopy() {
    ArmStatistics arm = new ArmStatistics();
    for (int i = 0; i < 100; i++) {
      arm.add(3, 2);
    }

    ArmStatistics copy = arm.cappedAt(10);

    assertThat(copy.weight()).isCloseTo(10, within(1e-9));
    assertThat(copy.rate()).isCloseTo(1.5, within(1e-12));
    assertThat(arm.weight()).isCloseTo(100, within(1e-9));
  }
}
