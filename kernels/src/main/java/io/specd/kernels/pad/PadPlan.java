package io.specd.kernels.pad;

import io.specd.kernels.format.GgmlType;
import io.specd.kernels.llama.LlamaConfig;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * How a model is padded: the source's sizes, the padded sizes, where the source's layers go among
 * the padded ones, the tensor encoding and the seed of the random weights.
 *
 * <p>The padded model keeps the head size and the GQA ratio, so it has {@code width / headSize}
 * query heads and as many KV heads per query head as the source; query head h still uses KV head
 * {@code h / ratio}, so the source's heads are the first ones. The source's layers keep their
 * order; the dead layers sit only between them, spread evenly, so the padded model starts with the
 * source's first layer and ends with its last.
 *
 * @param source the source model's configuration
 * @param target the padded model's configuration (RMSNorm epsilon scaled by {@code d/D})
 * @param realLayers for each source layer, its index among the padded layers (increasing)
 * @param type the encoding of 2-D tensors: {@link GgmlType#F32}, or {@link GgmlType#Q8_0} for every
 *     2-D tensor whose rows are a whole number of blocks
 * @param seed seeds the random weights
 */
public record PadPlan(
    LlamaConfig source, LlamaConfig target, int[] realLayers, GgmlType type, long seed) {

  /** Standard deviation of the random weights (a usual initialisation scale). */
  public static final float RANDOM_STD = 0.02f;

  public PadPlan {
    realLayers = realLayers.clone();
    if (type != GgmlType.F32 && type != GgmlType.Q8_0) {
      throw new IllegalArgumentException("pad writes F32 or Q8_0, not " + type);
    }
  }

  @Override
  public int[] realLayers() {
    return realLayers.clone();
  }

  /**
   * Plans padding {@code source} to the given sizes.
   *
   * @param width the padded embedding length D
   * @param ffn the padded feed-forward length
   * @param layers the padded layer count
   * @throws IllegalArgumentException naming the size to fix when a size is smaller than the
   *     source's or does not divide into whole heads
   */
  public static PadPlan of(
      LlamaConfig source, int width, int ffn, int layers, GgmlType type, long seed) {
    int headSize = source.headSize();
    if (source.queryDim() != source.dim()) {
      throw new IllegalArgumentException(
          "pad needs head count × head size = embedding length, but the source has "
              + source.headCount()
              + " × "
              + headSize
              + " ≠ "
              + source.dim());
    }
    requireAtLeast("width", width, "embedding length", source.dim());
    if (width % headSize != 0) {
      throw new IllegalArgumentException(
          "width " + width + " is not a multiple of the head size " + headSize);
    }
    int heads = width / headSize;
    int ratio = source.kvGroups();
    if (heads % ratio != 0) {
      throw new IllegalArgumentException(
          "width "
              + width
              + " gives "
              + heads
              + " heads, not a multiple of the "
              + ratio
              + " query heads per KV head");
    }
    requireAtLeast("ffn", ffn, "feed-forward length", source.ffnDim());
    requireAtLeast("layers", layers, "layer count", source.layerCount());
    float epsilon = (float) ((double) source.rmsNormEps() * source.dim() / width);
    LlamaConfig target =
        new LlamaConfig(
            width,
            layers,
            heads,
            heads / ratio,
            headSize,
            ffn,
            source.vocabularySize(),
            epsilon,
            source.ropeBase(),
            source.ropeDimensions(),
            source.ropeType(),
            source.ropeScale(),
            source.ropeFrequencyFactors(),
            source.contextLength(),
            source.bosId(),
            source.eosId());
    return new PadPlan(source, target, spread(source.layerCount(), layers), type, seed);
  }

  /** Source layer i goes to round(i (L-1) / (n-1)): first to first, last to last. */
  private static int[] spread(int sourceLayers, int layers) {
    int[] positions = new int[sourceLayers];
    for (int i = 1; i < sourceLayers; i++) {
      positions[i] = (i * (layers - 1) + (sourceLayers - 1) / 2) / (sourceLayers - 1);
    }
    return positions;
  }

  private static void requireAtLeast(String name, int value, String what, int sourceValue) {
    if (value < sourceValue) {
      throw new IllegalArgumentException(
          name + " " + value + " is smaller than the source's " + what + " " + sourceValue);
    }
  }

  /** The gain factor √(d/D) that keeps every RMSNorm's output on the source's dimensions. */
  public float normScale() {
    return (float) Math.sqrt((double) source.dim() / target.dim());
  }

  /**
   * The random generator of one tensor's weights: seeded by the plan's seed and the tensor's name,
   * so each tensor's values do not depend on the order tensors are written in.
   */
  RandomGenerator randomFor(String tensorName) {
    return new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * tensorName.hashCode()));
  }

  /** The source layer at a padded index, or -1 for a dead layer. */
  public int sourceLayerAt(int paddedLayer) {
    for (int i = 0; i < realLayers.length; i++) {
      if (realLayers[i] == paddedLayer) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The padded exit layer of a drafter that runs the source's first {@code sourceExit} layers
   * (Kangaroo): the count of padded layers up to and including the source's layer {@code sourceExit
   * - 1}, after which the source's residual stream at that depth is available.
   */
  public int paddedExitLayer(int sourceExit) {
    if (sourceExit < 1 || sourceExit > realLayers.length) {
      throw new IllegalArgumentException(
          "exit layer " + sourceExit + " is not in [1, " + realLayers.length + "]");
    }
    return realLayers[sourceExit - 1] + 1;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof PadPlan that
        && source.equals(that.source)
        && target.equals(that.target)
        && Arrays.equals(realLayers, that.realLayers)
        && type == that.type
        && seed == that.seed;
  }

  @Override
  public int hashCode() {
    return target.hashCode() * 31 + Arrays.hashCode(realLayers);
  }

  @Override
  public String toString() {
    return "PadPlan["
        + target.dim()
        + "x"
        + target.layerCount()
        + ", ffn "
        + target.ffnDim()
        + ", "
        + type
        + ", real layers at "
        + Arrays.toString(realLayers)
        + ", seed "
        + seed
        + "]";
  }
}
