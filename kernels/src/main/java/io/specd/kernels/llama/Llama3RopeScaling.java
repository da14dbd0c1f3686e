package io.specd.kernels.llama;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Llama 3.1's RoPE scaling ({@code rope_scaling} of type {@code llama3} in a Hugging Face config):
 * frequencies whose wavelength exceeds the original context are divided by {@code factor}, those
 * well within it are kept, and the band between is interpolated smoothly. Expressed as one divisor
 * per rotated pair — what a GGUF file stores as {@code rope_freqs.weight}.
 */
final class Llama3RopeScaling {
  private Llama3RopeScaling() {}

  /**
   * The frequency divisors.
   *
   * @param scaling {@code factor}, {@code low_freq_factor}, {@code high_freq_factor}, {@code
   *     original_max_position_embeddings}
   * @param base the RoPE base (theta)
   * @param rotated rotated dimensions per head
   */
  static float[] factors(JsonNode scaling, double base, int rotated) {
    double factor = scaling.path("factor").asDouble(8.0);
    double lowFrequencyFactor = scaling.path("low_freq_factor").asDouble(1.0);
    double highFrequencyFactor = scaling.path("high_freq_factor").asDouble(4.0);
    double originalContext = scaling.path("original_max_position_embeddings").asDouble(8192);
    double lowFrequencyWavelength = originalContext / lowFrequencyFactor;
    double highFrequencyWavelength = originalContext / highFrequencyFactor;
    float[] factors = new float[rotated / 2];
    for (int i = 0; i < factors.length; i++) {
      double frequency = Math.pow(base, -2.0 * i / rotated);
      double wavelength = 2 * Math.PI / frequency;
      double scaled;
      if (wavelength < highFrequencyWavelength) {
        scaled = frequency;
      } else if (wavelength > lowFrequencyWavelength) {
        scaled = frequency / factor;
      } else {
        double smooth =
            (originalContext / wavelength - lowFrequencyFactor)
                / (highFrequencyFactor - lowFrequencyFactor);
        scaled = (1 - smooth) * frequency / factor + smooth * frequency;
      }
      factors[i] = (float) (frequency / scaled);
    }
    return factors;
  }
}
