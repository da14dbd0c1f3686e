package io.specd.kernels.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded LLaMA model: configuration, tokenizer and device weights. It owns the NDManager that
 * holds the weights; {@link #close()} frees them. Not thread-safe: one owner (the device actor, or
 * a command-line run) uses it at a time.
 */
public final class LlamaModel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LlamaModel.class);

  private final Path source;
  private final LlamaConfig config;
  private final TextTokenizer tokenizer;
  private final NDManager manager;
  private final LlamaWeights weights;
  private final RopeRotations rope;
  private final boolean ownsTokenizer;

  private LlamaModel(
      Path source,
      LlamaConfig config,
      TextTokenizer tokenizer,
      NDManager manager,
      LlamaWeights w,
      boolean ownsTokenizer) {
    this.source = source;
    this.config = config;
    this.tokenizer = tokenizer;
    this.manager = manager;
    this.weights = w;
    this.rope = new RopeRotations(config);
    this.ownsTokenizer = ownsTokenizer;
  }

  /**
   * A decoder stack with a target's shape (width, heads, RoPE) but layers of its own and no
   * embedding or LM head: a drafter's augmenting block or adapter, run by the same {@link
   * LlamaForward} over hidden states, with its own {@link KvCachePool}.
   *
   * @param target the target model
   * @param layers the stack's layers, created in {@code manager}
   * @param manager a sub-manager of the target's that the stack owns from now on
   */
  public static LlamaModel decoderStack(
      LlamaModel target, List<LayerWeights> layers, NDManager manager) {
    LlamaConfig config = target.config.withLayerCount(layers.size());
    LlamaWeights weights =
        LlamaWeights.stack(target.weights.fingerprint(), layers, target.weights.rmsNormEps());
    return new LlamaModel(target.source, config, target.tokenizer, manager, weights, false);
  }

  /**
   * Loads a model from a GGUF file or a Hugging Face directory ({@code config.json}, {@code
   * *.safetensors}, {@code tokenizer.json}).
   *
   * @param path the {@code .gguf} file or the model directory
   * @param device where the weights live
   * @throws ModelFormatException if the model cannot be read
   */
  public static LlamaModel load(Path path, Device device) {
    WeightSource source = open(path);
    long start = System.nanoTime();
    NDManager manager = NDManager.newBaseManager(device);
    manager.setName("specd-model");
    try {
      LlamaWeights weights = LlamaWeights.load(source, manager);
      LlamaModel model =
          new LlamaModel(
              source.path(), source.config(), source.tokenizer(), manager, weights, true);
      LOG.info(
          "loaded {} ({} layers, dim {}, {} heads / {} KV heads, vocab {}) on {} in {} ms",
          path,
          model.config.layerCount(),
          model.config.dim(),
          model.config.headCount(),
          model.config.kvHeadCount(),
          model.config.vocabularySize(),
          device,
          (System.nanoTime() - start) / 1_000_000);
      return model;
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** Opens the weight source for a GGUF file or a Hugging Face directory. */
  public static WeightSource open(Path path) {
    if (Files.isDirectory(path)) {
      return HuggingFaceWeightSource.open(path);
    }
    if (!Files.isRegularFile(path)) {
      throw new ModelFormatException(path, "no such model file or directory");
    }
    return GgufWeightSource.open(path);
  }

  /** The file or directory the model was read from. */
  public Path source() {
    return source;
  }

  public LlamaConfig config() {
    return config;
  }

  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  public LlamaWeights weights() {
    return weights;
  }

  public RopeRotations rope() {
    return rope;
  }

  /** The manager that owns the weights; per-session and per-step managers hang below it. */
  public NDManager manager() {
    return manager;
  }

  @Override
  public void close() {
    manager.close();
    if (ownsTokenizer && tokenizer instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        LOG.warn("closing the tokenizer of {} failed", source, e);
      }
    }
  }
}
