package io.specd.kernels.llama;

/**
 * One decoder layer's weights on the host, in Hugging Face layout ({@code [out, in]} row-major), as
 * checkpoints store them. {@link LayerWeights#fuse} turns them into the device layout the forward
 * pass uses; {@link LayerWeights#unfuse} turns trained device weights back.
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
 * @param queryBias {@code [H·E]}, or null (Qwen 2's Q/K/V biases; llama has none)
 * @param keyBias {@code [K·E]}, or null
 * @param valueBias {@code [K·E]}, or null
 */
public record HostLayer(
    float[] attentionNorm,
    float[] query,
    float[] key,
    float[] value,
    float[] output,
    float[] ffnNorm,
    float[] gate,
    float[] up,
    float[] down,
    float[] queryBias,
    float[] keyBias,
    float[] valueBias) {

  /** A layer without attention biases (llama). */
  public HostLayer(
      float[] attentionNorm,
      float[] query,
      float[] key,
      float[] value,
      float[] output,
      float[] ffnNorm,
      float[] gate,
      float[] up,
      float[] down) {
    this(attentionNorm, query, key, value, output, ffnNorm, gate, up, down, null, null, null);
  }

  /** Reads tensors by Hugging Face name and expected shape. */
  @FunctionalInterface
  public interface TensorReader {
    float[] read(String name, long... shape);
  }

  /**
   * Reads a layer whose tensors are named {@code <prefix>input_layernorm.weight}, {@code
   * <prefix>self_attn.q_proj.weight}, … ({@code prefix} e.g. {@code model.layers.3.}).
   *
   * @param withFfn false for an attention-only layer (no post-attention norm or MLP)
   */
  public static HostLayer read(TensorReader reader, String prefix, LlamaConfig c, boolean withFfn) {
    return read(reader, name -> false, prefix, c, withFfn);
  }

  /**
   * Reads a layer, with its Q/K/V biases ({@code <prefix>self_attn.q_proj.bias}, …) when {@code
   * present} says the source holds them.
   */
  public static HostLayer read(
      TensorReader reader,
      java.util.function.Predicate<String> present,
      String prefix,
      LlamaConfig c,
      boolean withFfn) {
    boolean biased = present.test(prefix + "self_attn.q_proj.bias");
    int dim = c.dim();
    int qd = c.queryDim();
    int kvd = c.kvDim();
    int ffn = c.ffnDim();
    return new HostLayer(
        reader.read(prefix + "input_layernorm.weight", dim),
        reader.read(prefix + "self_attn.q_proj.weight", qd, dim),
        reader.read(prefix + "self_attn.k_proj.weight", kvd, dim),
        reader.read(prefix + "self_attn.v_proj.weight", kvd, dim),
        reader.read(prefix + "self_attn.o_proj.weight", dim, qd),
        withFfn ? reader.read(prefix + "post_attention_layernorm.weight", dim) : null,
        withFfn ? reader.read(prefix + "mlp.gate_proj.weight", ffn, dim) : null,
        withFfn ? reader.read(prefix + "mlp.up_proj.weight", ffn, dim) : null,
        withFfn ? reader.read(prefix + "mlp.down_proj.weight", dim, ffn) : null,
        biased ? reader.read(prefix + "self_attn.q_proj.bias", qd) : null,
        biased ? reader.read(prefix + "self_attn.k_proj.bias", kvd) : null,
        biased ? reader.read(prefix + "self_attn.v_proj.bias", kvd) : null);
  }

  /** Writes the layer's tensors under the same names {@link #read} uses. */
  public void write(
      io.specd.kernels.format.SafetensorsWriter writer, String prefix, LlamaConfig c) {
    int dim = c.dim();
    writer.put(prefix + "input_layernorm.weight", attentionNorm, dim);
    writer.put(prefix + "self_attn.q_proj.weight", query, c.queryDim(), dim);
    writer.put(prefix + "self_attn.k_proj.weight", key, c.kvDim(), dim);
    writer.put(prefix + "self_attn.v_proj.weight", value, c.kvDim(), dim);
    writer.put(prefix + "self_attn.o_proj.weight", output, dim, c.queryDim());
    if (queryBias != null) {
      writer.put(prefix + "self_attn.q_proj.bias", queryBias, c.queryDim());
      writer.put(prefix + "self_attn.k_proj.bias", keyBias, c.kvDim());
      writer.put(prefix + "self_attn.v_proj.bias", valueBias, c.kvDim());
    }
    if (ffnNorm != null) {
      writer.put(prefix + "post_attention_layernorm.weight", ffnNorm, dim);
      writer.put(prefix + "mlp.gate_proj.weight", gate, c.ffnDim(), dim);
      writer.put(prefix + "mlp.up_proj.weight", up, c.ffnDim(), dim);
      writer.put(prefix + "mlp.down_proj.weight", down, dim, c.ffnDim());
    }
  }

  /** True when any tensor failed to read (a strict reader records why). */
  public boolean incomplete() {
    return attentionNorm == null
        || query == null
        || key == null
        || value == null
        || output == null
        || (ffnNorm != null && (gate == null || up == null || down == null));
  }
}
