package io.specd.policies.spec;

/**
 * How the next token is chosen from the target's distribution. A temperature of zero means greedy
 * decoding (argmax); otherwise logits are divided by the temperature, then restricted to the {@code
 * topK} most likely tokens (0 keeps all) and to the smallest set whose probability reaches {@code
 * topP} (1 keeps all), and a token is drawn with a generator seeded by {@code seed}.
 *
 * <p>The same warping is applied to target and draft distributions wherever both enter an
 * acceptance test, so that speculative sampling stays lossless.
 *
 * @param temperature 0 for greedy, otherwise the softmax temperature (finite, &gt; 0)
 * @param topK keep only the K most likely tokens; 0 disables the filter
 * @param topP nucleus threshold in (0, 1]; 1 disables the filter
 * @param seed seed of the per-request random generator (same seed, same output)
 */
public record SamplingParams(double temperature, int topK, double topP, long seed) {

  /** Greedy decoding: always the most likely token. */
  public static final SamplingParams GREEDY = new SamplingParams(0.0, 0, 1.0, 0L);

  public SamplingParams {
    if (!(temperature >= 0.0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException(
          "temperature must be a finite number >= 0 (0 means greedy), got " + temperature);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("top_k must be >= 0 (0 disables it), got " + topK);
    }
    if (!(topP > 0.0 && topP <= 1.0)) {
      throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
    }
  }

  /** Sampling at the given temperature with no top-k/top-p filter. */
  public static SamplingParams ofTemperature(double temperature, long seed) {
    return new SamplingParams(temperature, 0, 1.0, seed);
  }

  /** True when decoding is greedy (temperature zero): no random numbers are drawn. */
  public boolean isGreedy() {
    return temperature == 0.0;
  }
}
