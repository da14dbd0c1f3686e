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
    WeightMatrix down) {

  boolean hasFfn() {
    return ffnNorm != null;
  }
}
