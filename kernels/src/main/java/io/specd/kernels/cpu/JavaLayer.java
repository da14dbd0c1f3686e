package io.specd.kernels.cpu;

/**
 * One decoder layer's weights on the {@code java} backend.
 *
 * @param attentionNorm {@code [D]} input RMSNorm gain
 * @param query {@code [H·E, D]}
 * @param key {@code [K·E, D]}
 * @param value {@code [K·E, D]}
 * @param output {@code [D, H·E]}
 * @param ffnNorm {@code [D]} post-attention RMSNorm gain, or null (attention-only layer)
 * @param gate {@code [F, D]}, or null
 * @param up {@code [F, D]}, or null
 * @param down {@code [D, F]}, or null
 * @param queryBias {@code [H·E]}, or null (no attention biases)
 * @param keyBias {@code [K·E]}, or null
 * @param valueBias {@code [K·E]}, or null
 */
record JavaLayer(
    float[] attentionNorm,
    WeightMatrix query,
    WeightMatrix key,
    WeightMatrix value,
    WeightMatrix output,
    float[] ffnNorm,
    WeightMatrix gate,
    WeightMatrix up,
    WeightMatrix down,
    float[] queryBias,
    float[] keyBias,
    float[] valueBias) {

  boolean hasFfn() {
    return ffnNorm != null;
  }
}
