package io.specd.kernels.llama;

import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.GgufTensorInfo;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.format.TensorBytes;
import io.specd.kernels.tokenizer.GgufTokenizers;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A LLaMA-family model in a GGUF file ({@code llama}, or {@code qwen2} with its Q/K/V biases):
 * configuration from the architecture's metadata ({@code llama.*}, {@code qwen2.*}), the embedded
 * tokenizer, and tensors mapped from GGUF names ({@code blk.N.attn_q.weight}) to Hugging Face
 * names. GGUF llama files use the adjacent-pair RoPE layout (llama.cpp's "norm"), qwen2 files the
 * halves ("neox").
 */
public final class GgufWeightSource implements WeightSource {
  private static final Map<String, String> GLOBAL_NAMES =
      Map.of(
          "model.embed_tokens.weight", "token_embd.weight",
          "model.norm.weight", "output_norm.weight",
          "lm_head.weight", "output.weight");
  private static final Map<String, String> LAYER_NAMES =
      Map.ofEntries(
          Map.entry("input_layernorm.weight", "attn_norm.weight"),
          Map.entry("self_attn.q_proj.weight", "attn_q.weight"),
          Map.entry("self_attn.k_proj.weight", "attn_k.weight"),
          Map.entry("self_attn.v_proj.weight", "attn_v.weight"),
          Map.entry("self_attn.q_proj.bias", "attn_q.bias"),
          Map.entry("self_attn.k_proj.bias", "attn_k.bias"),
          Map.entry("self_attn.v_proj.bias", "attn_v.bias"),
          Map.entry("self_attn.o_proj.weight", "attn_output.weight"),
          Map.entry("post_attention_layernorm.weight", "ffn_norm.weight"),
          Map.entry("mlp.gate_proj.weight", "ffn_gate.weight"),
          Map.entry("mlp.up_proj.weight", "ffn_up.weight"),
          Map.entry("mlp.down_proj.weight", "ffn_down.weight"));
  private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");

  /**
   * The architectures specd runs, with the RoPE pairing llama.cpp assigns each ({@code llama}'s
   * converter permutes Q and K into adjacent pairs; {@code qwen2} keeps Hugging Face's halves).
   */
  private static final Map<String, RopeType> ARCHITECTURES =
      new java.util.TreeMap<>(Map.of("llama", RopeType.NORM, "qwen2", RopeType.NEOX));

  /** Llama 3's RoPE frequency factors, one per rotated pair. */
  private static final String ROPE_FACTORS = "rope_freqs.weight";

  private final GgufFile gguf;
  private final LlamaConfig config;
  private final TextTokenizer tokenizer;

  private GgufWeightSource(GgufFile gguf) {
    this.gguf = gguf;
    this.tokenizer = GgufTokenizers.read(gguf);
    this.config = readConfig(gguf, tokenizer);
  }

  /** Opens a GGUF file and reads its configuration and tokenizer. */
  public static GgufWeightSource open(Path path) {
    return new GgufWeightSource(GgufFile.open(path));
  }

  private static LlamaConfig readConfig(GgufFile gguf, TextTokenizer tokenizer) {
    String architecture = gguf.string("general.architecture");
    RopeType ropeType = ARCHITECTURES.get(architecture);
    if (ropeType == null) {
      throw new ModelFormatException(
          gguf.path(),
          "architecture '"
              + architecture
              + "' is not supported (specd runs "
              + String.join(" and ", ARCHITECTURES.keySet())
              + " models)");
    }
    String p = architecture + ".";
    int dim = gguf.positiveInt(p + "embedding_length");
    int heads = gguf.positiveInt(p + "attention.head_count");
    int kvHeads =
        gguf.has(p + "attention.head_count_kv")
            ? gguf.positiveInt(p + "attention.head_count_kv")
            : heads;
    int headSize =
        gguf.has(p + "attention.key_length")
            ? gguf.positiveInt(p + "attention.key_length")
            : dim / heads;
    if (gguf.has(p + "attention.value_length")
        && gguf.positiveInt(p + "attention.value_length") != headSize) {
      throw new ModelFormatException(
          gguf.path(),
          "keys of "
              + headSize
              + " and values of "
              + gguf.positiveInt(p + "attention.value_length")
              + " dimensions per head are not supported (they must be equal)");
    }
    int ropeDimensions =
        gguf.has(p + "rope.dimension_count")
            ? gguf.positiveInt(p + "rope.dimension_count")
            : headSize;
    double ropeScale = 1.0;
    String scaling = gguf.optionalString(p + "rope.scaling.type").orElse("none");
    if (scaling.equals("linear")) {
      ropeScale = gguf.optionalReal(p + "rope.scaling.factor").orElse(1.0);
    } else if (!scaling.equals("none")) {
      throw new ModelFormatException(
          gguf.path(), "RoPE scaling '" + scaling + "' is not supported (none or linear)");
    }
    GgufTensorInfo embedding = gguf.tensor("token_embd.weight");
    int vocabularySize = Math.toIntExact(embedding.dimensions()[embedding.dimensions().length - 1]);
    if (vocabularySize != tokenizer.vocabularySize()) {
      throw new ModelFormatException(
          gguf.path(),
          "the embedding has "
              + vocabularySize
              + " rows but the tokenizer has "
              + tokenizer.vocabularySize()
              + " tokens");
    }
    try {
      return new LlamaConfig(
          dim,
          gguf.positiveInt(p + "block_count"),
          heads,
          kvHeads,
          headSize,
          gguf.positiveInt(p + "feed_forward_length"),
          vocabularySize,
          gguf.optionalReal(p + "attention.layer_norm_rms_epsilon").orElse(1e-5).floatValue(),
          gguf.optionalReal(p + "rope.freq_base").orElse(10000.0),
          ropeDimensions,
          ropeType,
          ropeScale,
          gguf.tensors().containsKey(ROPE_FACTORS) ? gguf.readFloats(ROPE_FACTORS) : null,
          gguf.positiveInt(p + "context_length"),
          tokenizer.bosId(),
          tokenizer.eosId());
    } catch (IllegalArgumentException e) {
      throw new ModelFormatException(
          gguf.path(), "inconsistent model metadata: " + e.getMessage(), e);
    }
  }

  @Override
  public Path path() {
    return gguf.path();
  }

  @Override
  public LlamaConfig config() {
    return config;
  }

  @Override
  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  public boolean has(String name) {
    return gguf.tensors().containsKey(ggufName(name));
  }

  @Override
  public float[] read(String name, long... shape) {
    return gguf.readFloats(checked(name, shape));
  }

  @Override
  public float[] readRows(String name, int rows, long... shape) {
    TensorBytes tensor = gguf.tensorBytes(checked(name, shape));
    float[] values = new float[rows * tensor.rowLength()];
    tensor.dequantizeRows(0, rows, values, 0);
    return values;
  }

  @Override
  public Optional<TensorBytes> encoded(String name, long... shape) {
    return Optional.of(gguf.tensorBytes(checked(name, shape)));
  }

  /** The GGUF name of a tensor whose shape is as expected. */
  private String checked(String name, long... shape) {
    String ggufName = ggufName(name);
    GgufTensorInfo info = gguf.tensor(ggufName);
    if (!Arrays.equals(info.rowMajorShape(), shape)) {
      throw new ModelFormatException(
          gguf.path(),
          "tensor '"
              + ggufName
              + "' has shape "
              + Arrays.toString(info.rowMajorShape())
              + ", expected "
              + Arrays.toString(shape));
    }
    return ggufName;
  }

  private static String ggufName(String name) {
    String global = GLOBAL_NAMES.get(name);
    if (global != null) {
      return global;
    }
    Matcher m = LAYER.matcher(name);
    if (m.matches() && LAYER_NAMES.containsKey(m.group(2))) {
      return "blk." + m.group(1) + "." + LAYER_NAMES.get(m.group(2));
    }
    throw new IllegalArgumentException("no GGUF name for tensor " + name);
  }
}
