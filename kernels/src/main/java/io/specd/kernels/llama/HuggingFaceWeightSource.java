package io.specd.kernels.llama;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.format.SafetensorsFile;
import io.specd.kernels.format.TensorBytes;
import io.specd.kernels.tokenizer.TextTokenizer;
import io.specd.kernels.tokenizer.TokenizerJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A LLaMA model in a Hugging Face directory: {@code config.json}, one or more {@code *.safetensors}
 * shards and {@code tokenizer.json}. Checkpoints of this layout use the half-split RoPE pairing
 * ({@code rotate_half}).
 */
public final class HuggingFaceWeightSource implements WeightSource {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The {@code model_type}s specd runs (Qwen 2 adds Q/K/V biases, read when present). */
  private static final List<String> MODEL_TYPES = List.of("llama", "mistral", "qwen2");

  /** The fields of {@code config.json} specd reads. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record HfConfig(
      @JsonProperty("model_type") String modelType,
      @JsonProperty("hidden_size") Integer hiddenSize,
      @JsonProperty("intermediate_size") Integer intermediateSize,
      @JsonProperty("num_attention_heads") Integer numAttentionHeads,
      @JsonProperty("num_hidden_layers") Integer numHiddenLayers,
      @JsonProperty("num_key_value_heads") Integer numKeyValueHeads,
      @JsonProperty("head_dim") Integer headDim,
      @JsonProperty("rms_norm_eps") Double rmsNormEps,
      @JsonProperty("rope_theta") Double ropeTheta,
      @JsonProperty("rope_scaling") JsonNode ropeScaling,
      @JsonProperty("max_position_embeddings") Integer maxPositionEmbeddings,
      @JsonProperty("vocab_size") Integer vocabSize,
      @JsonProperty("bos_token_id") JsonNode bosTokenId,
      @JsonProperty("eos_token_id") JsonNode eosTokenId) {}

  private final Path directory;
  private final LlamaConfig config;
  private final TextTokenizer tokenizer;
  private final Map<String, SafetensorsFile> shardOf;

  private HuggingFaceWeightSource(
      Path directory,
      LlamaConfig config,
      TextTokenizer tokenizer,
      Map<String, SafetensorsFile> shardOf) {
    this.directory = directory;
    this.config = config;
    this.tokenizer = tokenizer;
    this.shardOf = shardOf;
  }

  /** Opens a Hugging Face model directory. */
  public static HuggingFaceWeightSource open(Path directory) {
    Path configFile = directory.resolve("config.json");
    if (!Files.isRegularFile(configFile)) {
      throw new ModelFormatException(directory, "no config.json in the model directory");
    }
    LlamaConfig config = readConfig(configFile);
    Map<String, SafetensorsFile> shardOf = new HashMap<>();
    for (Path shard : shards(directory)) {
      SafetensorsFile file = SafetensorsFile.open(shard);
      file.tensors().keySet().forEach(name -> shardOf.put(name, file));
    }
    TextTokenizer tokenizer =
        TokenizerJson.read(directory.resolve("tokenizer.json"), config.bosId(), config.eosId());
    return new HuggingFaceWeightSource(directory, config, tokenizer, shardOf);
  }

  private static List<Path> shards(Path directory) {
    try (Stream<Path> files = Files.list(directory)) {
      List<Path> shards =
          new ArrayList<>(
              files
                  .filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                  .sorted()
                  .toList());
      if (shards.isEmpty()) {
        throw new ModelFormatException(directory, "no *.safetensors files in the model directory");
      }
      return shards;
    } catch (IOException e) {
      throw new ModelFormatException(directory, "cannot list the model directory: " + e, e);
    }
  }

  static LlamaConfig readConfig(Path configFile) {
    HfConfig hf;
    try {
      hf = JSON.readValue(configFile.toFile(), HfConfig.class);
    } catch (IOException e) {
      throw new ModelFormatException(configFile, "config.json is not valid: " + e.getMessage(), e);
    }
    if (hf.modelType() != null && !MODEL_TYPES.contains(hf.modelType())) {
      throw new ModelFormatException(
          configFile,
          "model_type '"
              + hf.modelType()
              + "' is not supported ("
              + String.join(", ", MODEL_TYPES)
              + ")");
    }
    int dim = required(configFile, "hidden_size", hf.hiddenSize());
    int heads = required(configFile, "num_attention_heads", hf.numAttentionHeads());
    int headSize = hf.headDim() != null ? hf.headDim() : dim / heads;
    double ropeTheta = hf.ropeTheta() != null ? hf.ropeTheta() : 10000.0;
    double ropeScale = 1.0;
    float[] ropeFactors = null;
    JsonNode scaling = hf.ropeScaling();
    if (scaling != null && !scaling.isNull()) {
      String type = scaling.path("rope_type").asText(scaling.path("type").asText());
      switch (type) {
        case "linear" -> ropeScale = scaling.path("factor").asDouble(1.0);
        case "llama3" -> ropeFactors = Llama3RopeScaling.factors(scaling, ropeTheta, headSize);
        default ->
            throw new ModelFormatException(
                configFile, "rope_scaling type '" + type + "' is not supported (linear or llama3)");
      }
    }
    try {
      return new LlamaConfig(
          dim,
          required(configFile, "num_hidden_layers", hf.numHiddenLayers()),
          heads,
          hf.numKeyValueHeads() != null ? hf.numKeyValueHeads() : heads,
          headSize,
          required(configFile, "intermediate_size", hf.intermediateSize()),
          required(configFile, "vocab_size", hf.vocabSize()),
          hf.rmsNormEps() != null ? hf.rmsNormEps().floatValue() : 1e-6f,
          ropeTheta,
          headSize,
          RopeType.NEOX,
          ropeScale,
          ropeFactors,
          hf.maxPositionEmbeddings() != null ? hf.maxPositionEmbeddings() : 2048,
          tokenId(hf.bosTokenId(), 1),
          tokenId(hf.eosTokenId(), 2));
    } catch (IllegalArgumentException e) {
      throw new ModelFormatException(configFile, "inconsistent config.json: " + e.getMessage(), e);
    }
  }

  private static int required(Path file, String field, Integer value) {
    if (value == null) {
      throw new ModelFormatException(file, "config.json lacks '" + field + "'");
    }
    return value;
  }

  /** A token id field that may be a number or a list of numbers (the first is used). */
  private static int tokenId(JsonNode node, int fallback) {
    if (node == null || node.isNull()) {
      return fallback;
    }
    return node.isArray() ? node.get(0).asInt(fallback) : node.asInt(fallback);
  }

  @Override
  public Path path() {
    return directory;
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
    return shardOf.containsKey(name);
  }

  @Override
  public float[] read(String name, long... shape) {
    return shard(name, shape).readFloats(name);
  }

  @Override
  public Optional<TensorBytes> encoded(String name, long... shape) {
    return Optional.of(shard(name, shape).tensorBytes(name));
  }

  /** The shard holding a tensor whose shape is as expected. */
  private SafetensorsFile shard(String name, long... shape) {
    SafetensorsFile file = shardOf.get(name);
    if (file == null) {
      throw new ModelFormatException(directory, "missing tensor '" + name + "'");
    }
    long[] actual = file.entry(name).shape();
    if (!Arrays.equals(actual, shape)) {
      throw new ModelFormatException(
          file.path(),
          "tensor '"
              + name
              + "' has shape "
              + Arrays.toString(actual)
              + ", expected "
              + Arrays.toString(shape));
    }
    return file;
  }
}
