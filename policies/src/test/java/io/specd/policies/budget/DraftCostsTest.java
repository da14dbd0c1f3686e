package io.specd.policies.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class DraftCostsTest {

  @Test
  void shouldPriceByDepthThroughTheOriginWhileOneDepthWasTimed() {
    DraftCosts costs = new DraftCosts(2);
    costs.observe(0, 1, 5e6, 0.9);
    costs.observe(0, 1, 5e6, 0.9);

    assertThat(costs.nanos(0, 2)).isCloseTo(10e6, within(1.0));
    assertThat(costs.nanos(0, 0)).isZero();
  }

  @Test
  void shouldPayTheFixedWorkOnceWhenDepthsVary() {
    DraftCosts costs = new DraftCosts(1);
    for (int step = 0; step < 20; step++) {
      int depth = 1 + step % 2;
      costs.observe(0, depth, 4e6 + 1e6 * depth, 0.95);
    }

    assertThat(costs.nanos(0, 1)).isCloseTo(5e6, within(1.0));
    assertThat(costs.nanos(0, 3)).isCloseTo(7e6, within(1.0));
  }

  @Test
  void anUntimedWidthShouldBorrowEveryWidthsTimingsUntilItIsTimed() {
    DraftCosts costs = new DraftCosts(2);
    costs.observe(0, 1, 5e6, 0.9);

    assertThat(costs.timed(1)).isFalse();
    assertThat(costs.nanos(1, 1)).isCloseTo(5e6, within(1.0));

    costs.observe(1, 1, 9e6, 0.9);
    assertThat(costs.nanos(1, 1)).isCloseTo(9e6, within(1.0));
  }

  @Test
  void stepsWithoutATimedDraftShouldAgeTheTimingsAndForgettingShouldDropThem() {
    DraftCosts costs = new DraftCosts(1);
    costs.observe(0, 1, 20e6, 0.5);
    costs.observe(-1, 0, 0, 0.5);
    costs.observe(0, 1, 5e6, 0.5); // weighs twice the aged 20 ms

    assertThat(costs.nanos(0, 1)).isCloseTo((20e6 * 0.25 + 5e6) / 1.25, within(1.0));

    costs.forget(0);
    assertThat(costs.isEmpty()).isTrue();
    assertThat(costs.nanos(0, 1)).isZero();
  }
}
