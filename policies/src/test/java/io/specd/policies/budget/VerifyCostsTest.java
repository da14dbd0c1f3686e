package io.specd.policies.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class VerifyCostsTest {
  /** The padded 2048×8 Q8_0 model on the java backend, in ms: flat to 4 rows, then linear. */
  private static VerifyCosts memoryBound() {
    VerifyCosts costs = new VerifyCosts();
    for (int i = 0; i < 5; i++) {
      costs.add(1, 12.0, 1);
      costs.add(2, 13.8, 1);
      costs.add(4, 18.5, 1);
      costs.add(8, 34.7, 1);
      costs.add(16, 65.0, 1);
    }
    return costs;
  }

  @Test
  void shouldPredictTheMeanAtARowCountItHasSeen() {
    VerifyCosts costs = memoryBound();

    assertThat(costs.predict(1)).isCloseTo(12.0, within(1e-9));
    assertThat(costs.predict(4)).isCloseTo(18.5, within(1e-9));
    assertThat(costs.predict(16)).isCloseTo(65.0, within(1e-9));
  }

  @Test
  void shouldInterpolateBetweenTheRowCountsItHasSeen() {
    VerifyCosts costs = memoryBound();

    assertThat(costs.predict(3)).isCloseTo((13.8 + 18.5) / 2, within(1e-9));
    assertThat(costs.predict(12)).isCloseTo((34.7 + 65.0) / 2, within(1e-9));
  }

  @Test
  void shouldFollowTheCurveWhereALineCannot() {
    VerifyCosts costs = memoryBound();
    DiscountedLine line = new DiscountedLine();
    for (double[] point : new double[][] {{1, 12}, {2, 13.8}, {4, 18.5}, {8, 34.7}, {16, 65}}) {
      line.add(point[0], point[1], 1);
    }

    assertThat(Math.abs(costs.predict(4) - 18.5)).isLessThan(0.01);
    assertThat(Math.abs(line.predict(4) - 18.5)).isGreaterThan(2); // the line over-prices 4 rows
  }

  @Test
  void shouldExtendBeyondTheRowsSeenAlongTheFittedSlope() {
    VerifyCosts costs = memoryBound();
    DiscountedLine line = new DiscountedLine();
    for (int i = 0; i < 5; i++) {
      for (double[] point : new double[][] {{1, 12}, {2, 13.8}, {4, 18.5}, {8, 34.7}, {16, 65}}) {
        line.add(point[0], point[1], 1);
      }
    }

    assertThat(costs.predict(20)).isCloseTo(65.0 + 4 * line.slope(), within(1e-6));
    assertThat(costs.predict(0.5)).isLessThan(12.0);
  }

  @Test
  void shouldNeverPredictLessForMoreRows() {
    VerifyCosts costs = new VerifyCosts();
    costs.add(2, 20.0, 1); // a noisy slow step
    costs.add(4, 15.0, 1);
    costs.add(8, 30.0, 1);

    for (double rows = 1; rows < 12; rows += 0.5) {
      assertThat(costs.predict(rows + 0.5))
          .as("%s rows", rows)
          .isGreaterThanOrEqualTo(costs.predict(rows));
    }
  }

  @Test
  void shouldPoolARarelySeenSlowCountWithTheBetterMeasuredOneAboveIt() {
    // kangaroo+lookup under `tree` on the padded model: plain steps are rare, and one of them
    // stalled; two-row steps are the most common, three-row ones dearer
    VerifyCosts costs = new VerifyCosts();
    costs.add(1, 21.3, 1);
    for (int i = 0; i < 40; i++) {
      costs.add(2, 13.6, 1);
    }
    for (int i = 0; i < 7; i++) {
      costs.add(3, 21.0, 1);
    }

    double pooled = (21.3 + 40 * 13.6) / 41;
    assertThat(costs.predict(1)).isCloseTo(pooled, within(1e-9));
    assertThat(costs.predict(2)).isCloseTo(pooled, within(1e-9));
    // the largest mean so far made one, two and three rows cost the same: drafting looked free
    assertThat(costs.predict(3)).isCloseTo(21.0, within(1e-9));
  }

  @Test
  void shouldForgetOldSteps() {
    VerifyCosts costs = new VerifyCosts();
    costs.add(4, 100.0, 0.9);
    for (int i = 0; i < 200; i++) {
      costs.add(4, 20.0, 0.9);
    }

    assertThat(costs.predict(4)).isCloseTo(20.0, within(0.01));
  }

  @Test
  void shouldNotLetAStallPricePlainStepsAboveDraftingOnes() {
    VerifyCosts costs = new VerifyCosts();
    for (int i = 0; i < 100; i++) {
      costs.add(1, 25.0, 0.98);
      if (i % 25 == 0) {
        costs.add(2, 35.0, 0.98);
      }
    }
    costs.add(1, 4000.0, 0.98); // a collector's pause

    assertThat(costs.predict(1)).isLessThan(27.0);
    assertThat(costs.predict(2)).isGreaterThan(costs.predict(1));
  }

  @Test
  void shouldReplaceAMeanFromTheJitsFirstRunsByAStepFarBelowIt() {
    VerifyCosts costs = new VerifyCosts();
    costs.add(2, 47.0, 0.98); // the first two-row verification, compiled as it ran
    for (int i = 0; i < 20; i++) {
      costs.add(1, 10.0, 0.98);
    }
    costs.add(2, 10.5, 0.98);

    assertThat(costs.predict(2)).isCloseTo(10.5, within(1e-9));
  }

  @Test
  void shouldFollowARealRiseInCostAsItsDiscountedMeanDoes() {
    VerifyCosts costs = new VerifyCosts();
    for (int i = 0; i < 100; i++) {
      costs.add(1, 25.0, 0.98);
    }
    for (int i = 0; i < 60; i++) {
      costs.add(1, 100.0, 0.98); // another session's load, say
    }

    // the unclipped discounted mean is 79.8 here
    assertThat(costs.predict(1)).isGreaterThan(77.0);
  }

  @Test
  void copiesShouldLearnIndependently() {
    VerifyCosts costs = memoryBound();
    VerifyCosts copy = costs.copy();
    for (int i = 0; i < 100; i++) {
      copy.add(4, 40.0, 0.5);
    }

    assertThat(costs.predict(4)).isCloseTo(18.5, within(1e-9));
    assertThat(copy.predict(4)).isCloseTo(40.0, within(0.01));
  }
}
