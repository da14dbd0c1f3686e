package io.specd.kernels.llama;

/**
 * Hyperparameters of a LLaMA-family model. Derived sizes ({@link #headSize}, {@link #kvDim}, {@link
 * #kvGroups}) are computed once.
 *
 * @param dim hidden size (embedding length)
 * @param layerCount number of decoder layers
 * @param headCount attention (query) heads
 * @param kvHeadCount key/value heads (grouped-query attention when fewer than {@code headCount})
 * @param headSize dimensions per head
 * @param ffnDim SwiGLU intermediate size
 * @param vocabularySize number of tokens
 * @param rmsNormEps epsilon inside RMSNorm's square root
 * @param ropeBase RoPE frequency base (theta)
 * @param ropeDimensions how many leading dimensions of each head are rotated
 * @param ropeType how rotated dimensions are paired
 * @param ropeScale linear position scaling factor (positions are divided by it; 1 = none)
 * @param ropeFrequencyFactors per rotated pair, the divisor of its frequency (Llama 3's RoPE
 *     scaling: GGUF {@code rope_freqs.weight}, or {@code rope_scaling} of type {@code llama3}), or
 *     null for none
 * @param contextLength the longest sequence the model supports
 * @param bosId beginning-of-sequence token id
 * @param eosId end-of-sequence token id
 */
public record LlamaConfig(
    int dim,
    int layerCount,
    int headCount,
    int kvHeadCount,
    int headSize,
    int ffnDim,
    int vocabularySize,
    float rmsNormEps,
    double ropeBase,
    int ropeDimensions,
    RopeType ropeType,
    double ropeScale,
    float[] ropeFrequencyFactors,
    int contextLength,
    int bosId,
    int eosId) {

  public LlamaConfig {
    requirePositive("dim", dim);
    requirePositive("layerCount", layerCount);
    requirePositive("headCount", headCount);
    requirePositive("kvHeadCount", kvHeadCount);
    requirePositive("headSize", headSize);
    requirePositive("ffnDim", ffnDim);
    requirePositive("vocabularySize", vocabularySize);
    requirePositive("contextLength", contextLength);
    if (headCount % kvHeadCount != 0) {
      throw new IllegalArgumentException(
          "headCount " + headCount + " must be a multiple of kvHeadCount " + kvHeadCount);
    }
    if (ropeDimensions <= 0 || ropeDimensions > headSize || ropeDimensions % 2 != 0) {
      throw new IllegalArgumentException(
          "ropeDimensions must be even and in (0, headSize="
              + headSize
              + "], got "
              + ropeDimensions);
    }
    if (!(rmsNormEps > 0) || !(ropeBase > 0) || !(ropeScale > 0)) {
      throw new IllegalArgumentException(
          "rmsNormEps, ropeBase and ropeScale must be positive, got "
              + rmsNormEps
              + ", "
              + ropeBase
              + ", "
              + ropeScale);
    }
    if (ropeFrequencyFactors != null) {
      if (ropeFrequencyFactors.length != ropeDimensions / 2) {
        throw new IllegalArgumentException(
            ropeFrequencyFactors.length
                + " RoPE frequency factors for "
                + ropeDimensions / 2
                + " rotated pairs");
      }
      ropeFrequencyFactors = ropeFrequencyFactors.clone();
    }
    if (bosId < 0 || bosId >= vocabularySize || eosId < 0 || eosId >= vocabularySize) {
      throw new IllegalArgumentException(
          "BOS " + bosId + " and EOS " + eosId + " must be token ids below " + vocabularySize);
    }
  }

  /** Width of all query heads together ({@code headCount * headSize}). */
  public int queryDim() {
    return headCount * headSize;
  }

  /** Width of all key (or value) heads together ({@code kvHeadCount * headSize}). */
  public int kvDim() {
    return kvHeadCount * headSize;
  }

  /** Query heads per key/value head. */
  public int kvGroups() {
    return headCount / kvHeadCount;
  }

  /** The same shape with another number of layers (a drafter's own decoder stack). */
  public LlamaConfig withLayerCount(int layers) {
    return new LlamaConfig(
        dim,
        layers,
        headCount,
        kvHeadCount,
        headSize,
        ffnDim,
        vocabularySize,
        rmsNormEps,
        ropeBase,
        ropeDimensions,
        ropeType,
        ropeScale,
        ropeFrequencyFactors,
        contextLength,
        bosId,
        eosId);
  }

  /** The same model with a different context length (to cap memory). */
  public LlamaConfig withContextLength(int newContextLength) {
    return new LlamaConfig(
        dim,
        layerCount,
        headCount,
        kvHeadCount,
        headSize,
        ffnDim,
        vocabularySize,
        rmsNormEps,
        ropeBase,
        ropeDimensions,
        ropeType,
        ropeScale,
        ropeFrequencyFactors,
        newContextLength,
        bosId,
        eosId);
  }

  private static void requirePositive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }

  @Override
  public float[] ropeFrequencyFactors() {
    return ropeFrequencyFactors == null ? null : ropeFrequencyFactors.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LlamaConfig c
        && c.dim == dim
        && c.layerCount == layerCount
        && c.headCount == headCount
        && c.kvHeadCount == kvHeadCount
        && c.headSize == headSize
        && c.ffnDim == ffnDim
        && c.vocabularySize == vocabularySize
        && c.rmsNormEps == rmsNormEps
        && c.ropeBase == ropeBase
        && c.ropeDimensions == ropeDimensions
        && c.ropeType == ropeType
        && c.ropeScale == ropeScale
        && java.util.Arrays.equals(c.ropeFrequencyFactors, ropeFrequencyFactors)
        && c.contextLength == contextLength
        && c.bosId == bosId
        && c.eosId == eosId;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(dim, layerCount, headCount, vocabularySize, contextLength);
  }
}
