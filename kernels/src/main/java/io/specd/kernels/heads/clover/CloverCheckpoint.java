package io.specd.kernels.heads.clover;

import io.specd.kernels.heads.HeadCheckpoint;
import io.specd.kernels.llama.HostLayer;
import io.specd.kernels.llama.LlamaConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Clover-2's modules as a checkpoint stores them (public names of XiaoBin1992/clover, PyTorch
 * {@code [out, in]} layouts), read strictly into host arrays: what {@link CloverDrafter} builds its
 * backend modules from. {@link CloverWeights} is the trainable (DJL) form of the same modules.
 *
 * @param augmenting the augmenting decoder layers ({@code layers.*})
 * @param fuse attention decoder A ({@code clover_head_mlp_rnn.*})
 * @param cloverNorm {@code [D]} ({@code clover_norm.weight})
 * @param firstProjection {@code [D, D]} head 0's projector ({@code clover_head_mlp.weight})
 * @param firstBias {@code [D]}
 * @param recurrent attention decoder B ({@code clover_head_mlp_rnn2.*})
 * @param projection {@code [D, 2D]} the recurrent projector over {@code [s; e]} ({@code
 *     clover_head_mlp2.weight})
 * @param projectionBias {@code [D]}
 * @param headNorm {@code [D]} ({@code clover_head_norm.weight})
 */
public record CloverCheckpoint(
    List<HostLayer> augmenting,
    Attention fuse,
    float[] cloverNorm,
    float[] firstProjection,
    float[] firstBias,
    Attention recurrent,
    float[] projection,
    float[] projectionBias,
    float[] headNorm) {

  private static final Pattern LAYER = Pattern.compile("layers\\.(\\d+)\\..*");

  /**
   * An attention decoder block's tensors.
   *
   * @param gain {@code [D]} input RMSNorm gain of the query side
   * @param query {@code [D, D]}
   * @param queryBias {@code [D]}
   * @param key {@code [D, D]}
   * @param keyBias {@code [D]}
   * @param value {@code [D, D]}
   * @param valueBias {@code [D]}
   */
  public record Attention(
      float[] gain,
      float[] query,
      float[] queryBias,
      float[] key,
      float[] keyBias,
      float[] value,
      float[] valueBias) {

    static Attention read(HeadCheckpoint.Reader r, String prefix, int d) {
      return new Attention(
          r.read(prefix + "input_layernorm.weight", d),
          r.read(prefix + "q.weight", d, d),
          r.read(prefix + "q.bias", d),
          r.read(prefix + "k.weight", d, d),
          r.read(prefix + "k.bias", d),
          r.read(prefix + "v.weight", d, d),
          r.read(prefix + "v.bias", d));
    }
  }

  /**
   * Reads a checkpoint strictly (every missing or mis-shaped tensor is named); the number of
   * augmenting layers comes from the {@code layers.*} keys.
   *
   * @throws io.specd.kernels.format.ModelFormatException if the checkpoint does not fit
   */
  public static CloverCheckpoint read(HeadCheckpoint checkpoint, LlamaConfig c) {
    int d = c.dim();
    TreeSet<Integer> layerIndices = new TreeSet<>();
    for (String name : checkpoint.tensorNames()) {
      Matcher matcher = LAYER.matcher(name);
      if (matcher.matches()) {
        layerIndices.add(Integer.parseInt(matcher.group(1)));
      }
    }
    HeadCheckpoint.Reader r = checkpoint.reader();
    if (layerIndices.isEmpty()) {
      r.problem("no augmenting layers (layers.{i}.*)");
    }
    int count = layerIndices.isEmpty() ? 0 : layerIndices.last() + 1;
    List<HostLayer> layers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      // a target with attention biases (qwen2) gives its augmenting layers biases too
      layers.add(
          HostLayer.read(
              r::read, checkpoint.tensorNames()::contains, "layers." + i + ".", c, true));
    }
    CloverCheckpoint read =
        new CloverCheckpoint(
            layers,
            Attention.read(r, "clover_head_mlp_rnn.", d),
            r.read("clover_norm.weight", d),
            r.read("clover_head_mlp.weight", d, d),
            r.read("clover_head_mlp.bias", d),
            Attention.read(r, "clover_head_mlp_rnn2.", d),
            r.read("clover_head_mlp2.weight", d, 2L * d),
            r.read("clover_head_mlp2.bias", d),
            r.read("clover_head_norm.weight", d));
    r.finish();
    return read;
  }
}
