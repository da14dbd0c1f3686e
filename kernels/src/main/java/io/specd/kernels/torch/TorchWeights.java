package io.specd.kernels.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.llama.HostLayer;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.WeightSource;
import java.util.ArrayList;
import java.util.List;

/**
 * All weights of a LLaMA model on a DJL device, in the fused layout of {@link LayerWeights}. Built
 * once from a {@link WeightSource}; the fusion (transposes, folded norm gains and attention scale)
 * is done on the host so that loading costs no device ops.
 *
 * @param tokenEmbedding {@code [vocab, dim]}, or null for a decoder stack
 * @param layers one entry per decoder layer
 * @param outputNorm {@code [dim]}: the final RMSNorm gain (kept separate: drafters share the LM
 *     head behind their own norms), or null for a decoder stack
 * @param lmHead {@code [dim, vocab]}: {@code Wlmᵀ} (the embedding when the model ties them), or
 *     null for a decoder stack
 * @param rmsNormEps {@code []}: the RMSNorm epsilon as a device scalar
 */
public record TorchWeights(
    NDArray tokenEmbedding,
    List<LayerWeights> layers,
    NDArray outputNorm,
    NDArray lmHead,
    NDArray rmsNormEps) {

  /** Reads every tensor from {@code source} and creates the fused weights in {@code manager}. */
  public static TorchWeights load(WeightSource source, NDManager manager) {
    LlamaConfig c = source.config();
    int dim = c.dim();
    int vocab = c.vocabularySize();
    float[] embedding = source.read(source.embeddingName(), vocab, dim);
    List<LayerWeights> layers = new ArrayList<>(c.layerCount());
    for (int l = 0; l < c.layerCount(); l++) {
      HostLayer layer =
          HostLayer.read(source::read, source::has, "model.layers." + l + ".", c, true);
      layers.add(LayerWeights.fuse(layer, c, manager));
    }
    float[] outputNorm = source.read("model.norm.weight", dim);
    // models with tied embeddings store one matrix for both
    float[] lmHead =
        source.lmHeadName().equals(source.embeddingName())
            ? embedding
            : source.read(source.lmHeadName(), vocab, dim);
    return new TorchWeights(
        manager.create(embedding, new Shape(vocab, dim)),
        List.copyOf(layers),
        manager.create(outputNorm, new Shape(dim)),
        manager.create(LayerWeights.transpose(lmHead, vocab, dim), new Shape(dim, vocab)),
        manager.create(c.rmsNormEps()));
  }

  /**
   * The weights of a decoder stack that has layers only (a drafter's own layers): no embedding,
   * final norm or LM head.
   */
  public static TorchWeights stack(List<LayerWeights> layers, NDArray eps) {
    return new TorchWeights(null, List.copyOf(layers), null, null, eps);
  }
}
