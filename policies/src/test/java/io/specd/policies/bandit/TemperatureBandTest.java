package io.specd.policies.bandit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TemperatureBandTest {

  @Test
  void shouldBandTemperatures() {
    assertThat(TemperatureBand.of(0)).isEqualTo(TemperatureBand.GREEDY);
    assertThat(TemperatureBand.of(0.7)).isEqualTo(TemperatureBand.LOW);
    assertThat(TemperatureBand.of(1.2)).isEqualTo(TemperatureBand.HIGH);
  }

  @Test
  void shouldBandBatchOccupancyByPowersOfTwo() {
    assertThat(RewardTable.band(1)).isZero();
    assertThat(RewardTable.band(3)).isEqualTo(1);
    assertThat(RewardTable.band(4)).isEqualTo(2);
    assertThat(RewardTable.band(1000)).isEqualTo(RewardTable.OCCUPANCY_BANDS - 1);
  }
}
