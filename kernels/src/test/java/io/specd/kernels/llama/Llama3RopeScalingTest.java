package io.specd.kernels.llama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * Llama 3.1's {@code rope_scaling} (type {@code llama3}, as its config.json gives it): wavelengths
 * within the original context keep their frequency, those beyond it are divided by the factor, the
 * band between is interpolated; the divisors are what Llama 3.1 GGUF files store.
 */
class Llama3RopeScalingTest {

  @Test
  void factorsShouldKeepHighFrequenciesAndDivideLowOnes() throws Exception {
    var scaling =
        new ObjectMapper()
            .readTree(
                "{\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
                    + " \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}");
    float[] factors = Llama3RopeScaling.factors(scaling, 500000.0, 128);
    assertThat(factors).hasSize(64);
    assertThat(factors[0]).isEqualTo(1f); // wavelength 2π: far inside the context
    assertThat(factors[63]).isCloseTo(8f, within(1e-5f)); // beyond the original context
    for (int i = 1; i < factors.length; i++) {
      assertThat(factors[i]).as("pair %d", i).isBetween(factors[i - 1], 8f);
    }
    // the smooth band: pairs whose wavelength lies between 8192/4 and 8192
    long interpolated = 0;
    for (float f : factors) {
      if (f > 1f && f < 8f - 1e-4f) {
        interpolated++;
      }
    }
    assertThat(interpolated).isPositive();
  }
}
