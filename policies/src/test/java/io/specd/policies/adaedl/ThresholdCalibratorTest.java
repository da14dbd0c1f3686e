package io.specd.policies.adaedl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ThresholdCalibratorTest {

  @Test
  void shouldProposeNothingBeforeTheMinimumObservations() {
    ThresholdCalibrator calibrator = new ThresholdCalibrator(64, 0.25, 4);
    calibrator.record(0.9, true);
    calibrator.record(0.1, false);
    calibrator.record(0.8, true);

    assertThat(calibrator.threshold()).isEmpty();
  }

  @Test
  void shouldSplitSeparableObservationsInTheMiddleOfTheGap() {
    ThresholdCalibrator calibrator = new ThresholdCalibrator(64, 0.25, 4);
    for (int i = 0; i < 8; i++) {
      calibrator.record(0.2, false);
      calibrator.record(0.6, true);
    }

    assertThat(calibrator.threshold()).hasValueCloseTo(0.4, within(1e-9));
  }

  @Test
  void shouldFindTheBreakEvenOfACalibratedEstimate() {
    // P(accepted | estimate) = estimate: the best threshold is the break-even probability itself.
    SplittableRandom random = new SplittableRandom(3);
    ThresholdCalibrator calibrator = new ThresholdCalibrator(20_000, 0.3, 16);
    for (int i = 0; i < 20_000; i++) {
      double estimate = random.nextDouble();
      calibrator.record(estimate, random.nextDouble() < estimate);
    }

    assertThat(calibrator.threshold()).hasValueCloseTo(0.3, within(0.05));
  }

  @Test
  void shouldClampWhenEveryTokenIsAcceptedOrEveryTokenRejected() {
    ThresholdCalibrator accepting = new ThresholdCalibrator(64, 0.25, 4);
    ThresholdCalibrator rejecting = new ThresholdCalibrator(64, 0.25, 4);
    for (int i = 0; i < 10; i++) {
      accepting.record(0.01 * i, true);
      rejecting.record(0.9 + 0.01 * i, false);
    }

    assertThat(accepting.threshold()).hasValue(ThresholdCalibrator.MIN_THRESHOLD);
    assertThat(rejecting.threshold()).hasValue(ThresholdCalibrator.MAX_THRESHOLD);
  }

  @Test
  void shouldForgetObservationsOlderThanTheWindow() {
    ThresholdCalibrator calibrator = new ThresholdCalibrator(16, 0.25, 4);
    for (int i = 0; i < 16; i++) {
      calibrator.record(0.5, false);
    }
    for (int i = 0; i < 16; i++) {
      calibrator.record(0.5, true);
    }

    // only the accepted tokens remain: continue past them, halfway between the floor and 0.5
    assertThat(calibrator.size()).isEqualTo(16);
    assertThat(calibrator.threshold()).hasValueCloseTo(0.275, within(1e-9));
  }
}
