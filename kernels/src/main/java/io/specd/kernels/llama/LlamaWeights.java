package io.specd.kernels.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * All weights of a LLaMA model on the device, in the fused layout of {@link LayerWeights}. Built
 * once from a {@link WeightSource}; the fusion (transposes, folded norm gains and attention scale)
 * is done on the host so that loading costs no device ops.
 *
 * @param fingerprint identity of the weights (see {@link ModelFingerprint})
 * @param tokenEmbedding {@code [vocab, dim]}, or null for a decoder stack
 * @param layers one entry per decoder layer
 * @param outputNorm {@code [dim]}: the final RMSNorm gain (kept separate: drafters share the LM
 *     head behind their own norms)
 * @param lmHead {@code [dim, vocab]}: {@code Wlmᵀ} (the embedding when the model ties them), or
 *     null for a decoder stack
 * @param rmsNormEps {@code []}: the RMSNorm epsilon as a device scalar
 */
public record LlamaWeights(
    String fingerprint,
    NDArray tokenEmbedding,
    List<LayerWeights> layers,
    NDArray outputNorm,
    NDArray lmHead,
    NDArray rmsNormEps) {

  /** Reads every tensor from {@code source} and creates the fused weights in {@code manager}. */
  public static LlamaWeights load(WeightSource source, NDManager manager) {
    LlamaConfig c = source.config();
    int dim = c.dim();
    int vocab = c.vocabularySize();
    float[] embedding = source.read("model.embed_tokens.weight", vocab, dim);
    List<LayerWeights> layers = new ArrayList<>(c.layerCount());
    for (int l = 0; l < c.layerCount(); l++) {
      HostLayer layer = HostLayer.read(source::read, "model.layers." + l + ".", c, true);
      layers.add(LayerWeights.fuse(layer, c, manager));
    }
    float[] outputNorm = source.read("model.norm.weight", dim);
    // Models with tied embeddings have no separate output matrix.
    float[] lmHead =
        source.has("lm_head.weight") ? source.read("lm_head.weight", vocab, dim) : embedding;
    return new LlamaWeights(
        ModelFingerprint.of(c, embedding, lmHead),
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
  public static LlamaWeights stack(String fingerprint, List<LayerWeights> layers, NDArray eps) {
    return new LlamaWeights(fingerprint, null, List.copyOf(layers), null, null, eps);
  }
}
