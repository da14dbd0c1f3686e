package io.specd.kernels.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.format.SafetensorsWriter;
import io.specd.kernels.llama.HostLayer;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.torch.LayerWeights;
import io.specd.kernels.torch.TorchModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Kangaroo's trainable adapter on a DJL device (arXiv 2404.18911; layout of Equationliu/Kangaroo;
 * inference reads the exported checkpoint): one attention layer without an MLP ({@code layers.0.*})
 * over the residual stream after the target's first {@code exitLayer} layers, then its own RMSNorm
 * ({@code norm.weight}) before the target's LM head.
 *
 * @param exitLayer how many target layers the draft runs before the adapter
 * @param attention the adapter's attention layer (input norm folded, no MLP)
 * @param norm {@code [D]} the adapter's final RMSNorm gain
 */
public record KangarooWeights(int exitLayer, LayerWeights attention, NDArray norm) {

  /** The trainable arrays. */
  public List<NDArray> parameters() {
    List<NDArray> all = new ArrayList<>(Arrays.asList(attention.parameters()));
    all.add(norm);
    return all;
  }

  /** Starts from the target's last layer's attention and its final norm. */
  public static KangarooWeights initial(LlamaModel target, int exitLayer, NDManager manager) {
    LlamaConfig c = target.config();
    checkExit(exitLayer, c);
    HostLayer last = TorchModel.of(target).weights().layers().get(c.layerCount() - 1).unfuse(c);
    HostLayer attentionOnly =
        new HostLayer(
            last.attentionNorm(),
            last.query(),
            last.key(),
            last.value(),
            last.output(),
            null,
            null,
            null,
            null);
    return new KangarooWeights(
        exitLayer,
        LayerWeights.fuse(attentionOnly, c, manager),
        manager.create(target.outputNorm(), new Shape(c.dim())));
  }

  /** Writes the checkpoint tensors (the public names). */
  public void export(SafetensorsWriter out, LlamaConfig c) {
    attention.unfuse(c).write(out, "layers.0.", c);
    out.put("norm.weight", norm.toFloatArray(), c.dim());
  }

  private static void checkExit(int exitLayer, LlamaConfig c) {
    if (exitLayer < 1 || exitLayer >= c.layerCount()) {
      throw new IllegalArgumentException(
          "the exit layer must be in [1, " + (c.layerCount() - 1) + "], got " + exitLayer);
    }
  }
}
