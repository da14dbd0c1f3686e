package io.specd.policies.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class DiscountedLineTest {

  @Test
  void shouldRecoverAnExactLine() {
    DiscountedLine line = new DiscountedLine();
    for (int x = 1; x <= 10; x++) {
      line.add(x, 100 + 5 * x, 0.9);
    }

    assertThat(line.predict(40)).isCloseTo(300, within(1e-6));
    assertThat(line.intercept()).isCloseTo(100, within(1e-6));
    assertThat(line.slope()).isCloseTo(5, within(1e-9));
  }

  @Test
  void shouldPredictTheMeanWhileTheSlopeCannotBeMeasured() {
    DiscountedLine line = new DiscountedLine();
    line.add(3, 10, 1);
    line.add(3, 20, 1);

    assertThat(line.predict(100)).isCloseTo(15, within(1e-9));
  }

  @Test
  void shouldNeverPredictFasterVerificationForMoreRows() {
    DiscountedLine line = new DiscountedLine();
    line.add(1, 50, 1);
    line.add(10, 40, 1);

    assertThat(line.predict(100)).isCloseTo(45, within(1e-9));
  }

  @Test
  void shouldFollowRecentPointsWhenForgetting() {
    DiscountedLine line = new DiscountedLine();
    for (int i = 0; i < 200; i++) {
      line.add(i % 2, 10, 0.9);
    }
    for (int i = 0; i < 200; i++) {
      line.add(i % 2, 30 + 10 * (i % 2), 0.9);
    }

    assertThat(line.predict(1)).isCloseTo(40, within(0.01));
    assertThat(line.isEmpty()).isFalse();
  }
}
