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
 * @param fingerprint identity of the weights (see {@link #fingerprint})
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
        fingerprint(c, embedding, lmHead),
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

  /**
   * A short identity of the model's weights, independent of the file format: SHA-256 over the
   * shapes and the first rows of the embedding and LM head. Head checkpoints record it so that
   * heads trained for one model are refused by another.
   */
  static String fingerprint(LlamaConfig c, float[] embedding, float[] lmHead) {
    try {
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(16);
      header.putInt(c.dim()).putInt(c.layerCount()).putInt(c.vocabularySize()).putInt(c.ffnDim());
      sha.update(header.array());
      for (float[] table : new float[][] {embedding, lmHead}) {
        int count = Math.min(table.length, 64 * c.dim());
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(4 * count);
        bytes.asFloatBuffer().put(table, 0, count);
        sha.update(bytes.array());
      }
      return java.util.HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }
}
