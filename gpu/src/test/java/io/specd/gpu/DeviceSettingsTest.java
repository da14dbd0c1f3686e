package io.specd.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class DeviceSettingsTest {
  private final DeviceSettings settings = DeviceSettings.fromConfig(ConfigFactory.load());

  @Test
  void shouldSizeTheKvBudgetFromTheDevicesFreeMemory() {
    assertThat(settings.kvSlots()).isEqualTo(32);
    // 1 GiB free, 100 MiB a cache: 80% of the memory holds 8
    assertThat(settings.fittedTo(1L << 30, 100L << 20).kvSlots()).isEqualTo(8);
    assertThat(settings.fittedTo(1L << 40, 100L << 20).kvSlots()).isEqualTo(32);
    assertThat(settings.fittedTo(0, 100L << 20)).isEqualTo(settings);
  }

  @Test
  void shouldRejectSettingsOutOfRange() {
    assertThatThrownBy(
            () ->
                DeviceSettings.fromConfig(
                    ConfigFactory.parseString("specd.gpu.max-batch = 0")
                        .withFallback(ConfigFactory.load())))
        .hasMessageContaining("specd.gpu.max-batch must be >= 1, got 0");
  }
}
