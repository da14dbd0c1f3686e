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
 * @param tokenEmbedding {@code [vocab, dim]}
 * @param layers one entry per decoder layer
 * @param outputNorm {@code [dim]}: the final RMSNorm gain (kept separate: drafters share the LM
 *     head behind their own norms)
 * @param lmHead {@code [dim, vocab]}: {@code Wlmᵀ} (the embedding when the model ties them)
 * @param rmsNormEps {@code []}: the RMSNorm epsilon as a device scalar
 */
public record LlamaWeights(
    NDArray tokenEmbedding,
    List<LayerWeights> layers,
    NDArray outputNorm,
    NDArray lmHead,
    NDArray rmsNormEps) {

  /** Reads every tensor from {@code source} and creates the fused weights in {@code manager}. */
  public static LlamaWeights load(WeightSource source, NDManager manager) {
    LlamaConfig c = source.config();
    int dim = c.dim();
    int qd = c.queryDim();
    int kvd = c.kvDim();
    int ffn = c.ffnDim();
    int vocab = c.vocabularySize();
    float[] embedding = source.read("model.embed_tokens.weight", vocab, dim);
    List<LayerWeights> layers = new ArrayList<>(c.layerCount());
    float queryScale = (float) (1.0 / Math.sqrt(c.headSize()));
    for (int l = 0; l < c.layerCount(); l++) {
      float[] attnNorm = source.read(WeightSource.layer(l, "input_layernorm.weight"), dim);
      float[] wq = source.read(WeightSource.layer(l, "self_attn.q_proj.weight"), qd, dim);
      float[] wk = source.read(WeightSource.layer(l, "self_attn.k_proj.weight"), kvd, dim);
      float[] wv = source.read(WeightSource.layer(l, "self_attn.v_proj.weight"), kvd, dim);
      float[] wo = source.read(WeightSource.layer(l, "self_attn.o_proj.weight"), dim, qd);
      float[] ffnNorm = source.read(WeightSource.layer(l, "post_attention_layernorm.weight"), dim);
      float[] gate = source.read(WeightSource.layer(l, "mlp.gate_proj.weight"), ffn, dim);
      float[] up = source.read(WeightSource.layer(l, "mlp.up_proj.weight"), ffn, dim);
      float[] down = source.read(WeightSource.layer(l, "mlp.down_proj.weight"), dim, ffn);

      float[] qkv = new float[dim * (qd + 2 * kvd)];
      fuseTransposed(qkv, qd + 2 * kvd, 0, wq, qd, dim, attnNorm, queryScale);
      fuseTransposed(qkv, qd + 2 * kvd, qd, wk, kvd, dim, attnNorm, 1f);
      fuseTransposed(qkv, qd + 2 * kvd, qd + kvd, wv, kvd, dim, attnNorm, 1f);
      float[] gateUp = new float[dim * 2 * ffn];
      fuseTransposed(gateUp, 2 * ffn, 0, gate, ffn, dim, ffnNorm, 1f);
      fuseTransposed(gateUp, 2 * ffn, ffn, up, ffn, dim, ffnNorm, 1f);
      layers.add(
          new LayerWeights(
              manager.create(qkv, new Shape(dim, qd + 2 * kvd)),
              manager.create(transpose(wo, dim, qd), new Shape(qd, dim)),
              manager.create(gateUp, new Shape(dim, 2 * ffn)),
              manager.create(transpose(down, dim, ffn), new Shape(ffn, dim))));
    }
    float[] outputNorm = source.read("model.norm.weight", dim);
    // Models with tied embeddings have no separate output matrix.
    float[] lmHead =
        source.has("lm_head.weight") ? source.read("lm_head.weight", vocab, dim) : embedding;
    return new LlamaWeights(
        manager.create(embedding, new Shape(vocab, dim)),
        List.copyOf(layers),
        manager.create(outputNorm, new Shape(dim)),
        manager.create(transpose(lmHead, vocab, dim), new Shape(dim, vocab)),
        manager.create(c.rmsNormEps()));
  }

  /**
   * Writes {@code diag(gain) · (scale · W)ᵀ} into columns {@code [column, column + rows)} of a
   * row-major {@code [cols(W), width]} destination.
   *
   * @param destination {@code [in, width]} row-major
   * @param weight {@code [rows, in]} row-major (PyTorch {@code [out, in]})
   */
  private static void fuseTransposed(
      float[] destination,
      int width,
      int column,
      float[] weight,
      int rows,
      int in,
      float[] gain,
      float scale) {
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < in; i++) {
        destination[i * width + column + r] = weight[r * in + i] * scale * gain[i];
      }
    }
  }

  /** Row-major {@code [rows, cols]} to {@code [cols, rows]}. */
  private static float[] transpose(float[] matrix, int rows, int cols) {
    float[] out = new float[matrix.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[c * rows + r] = matrix[r * cols + c];
      }
    }
    return out;
  }
}
