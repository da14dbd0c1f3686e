package io.specd.kernels.llama;

import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded LLaMA model: configuration, tokenizer, the identity of its weights, and the backend's
 * {@link Transformer} that computes with them. {@link #close()} frees the weights. Not thread-safe:
 * one owner (the device actor, or a command-line run) uses it at a time.
 */
public final class LlamaModel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LlamaModel.class);

  private final Path source;
  private final TextTokenizer tokenizer;
  private final String fingerprint;
  private final Backend backend;
  private final Transformer transformer;
  private final boolean ownsTokenizer;

  private LlamaModel(
      Path source,
      TextTokenizer tokenizer,
      String fingerprint,
      Backend backend,
      Transformer transformer,
      boolean ownsTokenizer) {
    this.source = source;
    this.tokenizer = tokenizer;
    this.fingerprint = fingerprint;
    this.backend = backend;
    this.transformer = transformer;
    this.ownsTokenizer = ownsTokenizer;
  }

  /**
   * Loads a model from a GGUF file or a Hugging Face directory ({@code config.json}, {@code
   * *.safetensors}, {@code tokenizer.json}) onto a backend.
   *
   * @param path the {@code .gguf} file or the model directory
   * @throws ModelFormatException if the model cannot be read
   */
  public static LlamaModel load(Path path, Backend backend) {
    WeightSource source = open(path);
    long start = System.nanoTime();
    String fingerprint = Fingerprint.of(source);
    Transformer transformer = backend.load(source);
    LlamaConfig c = transformer.config();
    LOG.info(
        "loaded {} ({} layers, dim {}, {} heads / {} KV heads, vocab {}) on the {} backend in {} ms",
        path,
        c.layerCount(),
        c.dim(),
        c.headCount(),
        c.kvHeadCount(),
        c.vocabularySize(),
        backend.name(),
        (System.nanoTime() - start) / 1_000_000);
    LlamaModel model =
        new LlamaModel(source.path(), source.tokenizer(), fingerprint, backend, transformer, true);
    try {
      requireFiniteLogits(model);
    } catch (ModelFormatException e) {
      model.close();
      throw e;
    }
    return model;
  }

  /**
   * Runs the BOS token through the model: a weight that is NaN or infinite anywhere on the path (a
   * corrupt file, a broken quantization) makes the logits non-finite, and such a model would only
   * ever print one token.
   *
   * @throws ModelFormatException naming the problem
   */
  private static void requireFiniteLogits(LlamaModel model) {
    int bos = model.tokenizer().bosId();
    float[] logits =
        model
            .forward(
                SequenceInput.stateless(new int[] {bos}, 1),
                ForwardOptions.lastLogits(model.config()))
            .logits();
    for (int i = 0; i < model.config().vocabularySize(); i++) {
      if (!Float.isFinite(logits[i])) {
        throw new ModelFormatException(
            model.source(),
            "the weights give non-finite logits ("
                + logits[i]
                + " for token "
                + i
                + ") for the BOS token: the file holds NaN or infinite weights");
      }
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

  /**
   * A decoder stack with the target's shape (width, heads, RoPE) but layers of its own and no
   * embedding or LM head, on the target's backend: a drafter's augmenting block or adapter. Its
   * owner closes it.
   *
   * @param layers the stack's layers in Hugging Face layout
   */
  public static LlamaModel decoderStack(LlamaModel target, List<HostLayer> layers) {
    Transformer stack = target.backend.stack(target.config().withLayerCount(layers.size()), layers);
    return new LlamaModel(
        target.source, target.tokenizer, target.fingerprint, target.backend, stack, false);
  }

  /**
   * Runs a forward pass (see {@link Transformer#forward}).
   *
   * @param inputHidden {@code [Σn, D]} the residual stream entering {@code options.fromLayer()}, or
   *     null when it is 0
   */
  public ForwardResult forward(
      List<SequenceInput> sequences, float[] inputHidden, ForwardOptions options) {
    if (options.toLayer() > config().layerCount()) {
      throw new IllegalArgumentException(
          "the model has "
              + config().layerCount()
              + " layers, asked to run to "
              + options.toLayer());
    }
    boolean headOutputs = options.logits() || options.postNormHidden();
    if (headOutputs && options.toLayer() != config().layerCount()) {
      throw new IllegalArgumentException("logits need the forward to run to the last layer");
    }
    if (headOutputs && transformer.lmHead() == null) {
      throw new IllegalArgumentException("a decoder stack has no LM head to give logits");
    }
    if (inputHidden == null && options.fromLayer() != 0) {
      throw new IllegalArgumentException("a forward that starts after layer 0 needs hidden states");
    }
    if (sequences.isEmpty()) {
      throw new IllegalArgumentException("empty batch");
    }
    return transformer.forward(sequences, inputHidden, options);
  }

  /** One sequence from token embeddings. */
  public ForwardResult forward(SequenceInput sequence, ForwardOptions options) {
    return forward(List.of(sequence), null, options);
  }

  /** Key/value memory for up to {@code slots} sequences of up to {@code capacity} positions. */
  public KvCachePool newCachePool(int slots, int capacity) {
    LlamaConfig c = config();
    if (slots < 1) {
      throw new IllegalArgumentException("a KV cache pool needs at least one slot, got " + slots);
    }
    if (capacity < 1 || capacity > c.contextLength()) {
      throw new IllegalArgumentException(
          "KV capacity must be in [1, " + c.contextLength() + "], got " + capacity);
    }
    return transformer.newCachePool(slots, capacity);
  }

  /** The file or directory the model was read from. */
  public Path source() {
    return source;
  }

  public LlamaConfig config() {
    return transformer.config();
  }

  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  /** A short identity of the weights (see {@link Fingerprint}): heads record the one they fit. */
  public String fingerprint() {
    return fingerprint;
  }

  public Backend backend() {
    return backend;
  }

  /** The backend's computation (backend-specific code, such as head training, reaches in here). */
  public Transformer transformer() {
    return transformer;
  }

  /** The LM head {@code [vocab, dim]}, shared by drafters. */
  public Linear lmHead() {
    return transformer.lmHead();
  }

  /** The final RMSNorm gain {@code [dim]}. */
  public float[] outputNorm() {
    return transformer.outputNorm();
  }

  @Override
  public void close() {
    transformer.close();
    if (ownsTokenizer && tokenizer instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        LOG.warn("closing the tokenizer of {} failed", source, e);
      }
    }
  }
}
