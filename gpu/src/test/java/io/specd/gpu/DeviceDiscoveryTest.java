package io.specd.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

/** Discovery fails soft: without CUDA natives or a GPU (these machines) it finds the CPU. */
class DeviceDiscoveryTest {

  @Test
  void shouldFallBackToTheCpuWithoutACudaDevice() {
    assertThat(DeviceDiscovery.gpus()).isEmpty();
    DeviceDiscovery.Found found = DeviceDiscovery.discover();
    assertThat(found.device()).isEqualTo(Device.cpu());
    assertThat(found.description()).contains("CPU");
  }
}
