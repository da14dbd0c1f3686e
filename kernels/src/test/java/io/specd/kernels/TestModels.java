package io.specd.kernels;

import io.specd.kernels.cpu.JavaBackend;
import io.specd.kernels.format.GgmlType;
import io.specd.kernels.heads.BundledHeads;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.llama.Backend;
import io.specd.kernels.llama.Fingerprint;
import io.specd.kernels.llama.GgufWeightSource;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.pad.HeadPadder;
import io.specd.kernels.pad.ModelPadder;
import io.specd.kernels.pad.PadPlan;
import io.specd.kernels.pad.PaddedModel;
import io.specd.kernels.store.ModelStore;
import io.specd.kernels.torch.TorchBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/** The real model files the tests run on (never mocks), and the backends they run on. */
public final class TestModels {
  private TestModels() {}

  /** stories260K.gguf: from SPECD_MODEL, ./models, or ../shared/models beside the checkout. */
  public static Path stories260K() {
    String fromEnvironment = System.getenv("SPECD_MODEL");
    if (fromEnvironment != null && Files.isRegularFile(Path.of(fromEnvironment))) {
      return Path.of(fromEnvironment);
    }
    return ModelStore.standard()
        .findLocal()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "stories260K.gguf not found: put ../shared/models beside the checkout"
                        + " or set SPECD_MODEL"));
  }

  /** TinyStories-656K in GGUF Q8_0 (a second real model, beside stories260K). */
  public static Path tinyStoriesQ8() {
    Path path = stories260K().toAbsolutePath().resolveSibling("TinyStories-656K-Q8_0.gguf");
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException(
          "TinyStories-656K-Q8_0.gguf not found beside " + stories260K());
    }
    return path;
  }

  /**
   * A file of {@code ../shared/models/} (beside stories260K.gguf), e.g. {@code synthetic/x.gguf}.
   */
  public static Path model(String relative) {
    Path path = stories260K().toAbsolutePath().resolveSibling(relative);
    if (!Files.exists(path)) {
      throw new IllegalStateException(relative + " not found beside " + stories260K());
    }
    return path;
  }

  /** A llama.cpp reference of {@code ../shared/reference/llamacpp/}. */
  public static Path llamaCppReference(String fileName) {
    Path path =
        stories260K()
            .toAbsolutePath()
            .getParent()
            .resolveSibling("reference")
            .resolve("llamacpp")
            .resolve(fileName);
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException("llama.cpp reference not found at " + path);
    }
    return path;
  }

  /** llama.cpp's greedy reference output for "Once upon a time" (256 tokens). */
  public static Path referenceOutput() {
    Path models = stories260K().toAbsolutePath().getParent();
    Path reference = models.resolveSibling("reference").resolve("once-upon-a-time.greedy256.txt");
    if (!Files.isRegularFile(reference)) {
      throw new IllegalStateException("reference output not found at " + reference);
    }
    return reference;
  }

  /**
   * A random-weight model of {@code synthetic/} (e.g. {@code synth-256-Q4_K_M.gguf} or its {@code
   * .dequant.json}), found beside stories260K.gguf.
   *
   * @throws IllegalStateException if the file is missing
   */
  public static Path synthetic(String fileName) {
    Path file = stories260K().toAbsolutePath().getParent().resolve("synthetic").resolve(fileName);
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(
          "synthetic model file "
              + file
              + " not found: put ../shared/models beside the checkout or set SPECD_MODEL to the"
              + " stories260K.gguf of a models directory that has synthetic/");
    }
    return file;
  }

  private static Path wide;

  /**
   * stories260K padded to width 512 (FFN 1536, 6 layers) in Q8_0 with its drafter heads beside it,
   * written once per test run into a temporary directory: a model wide enough for the java
   * backend's encoded, multi-threaded path that still decodes exactly like stories260K.
   */
  public static synchronized Path paddedWide() {
    if (wide == null) {
      try {
        Path directory = Files.createTempDirectory("specd-wide-");
        LlamaConfig source = GgufWeightSource.open(stories260K()).config();
        PadPlan plan = PadPlan.of(source, 512, 1536, 6, GgmlType.Q8_0, 7);
        PaddedModel padded =
            ModelPadder.of(stories260K(), plan).write(directory.resolve("wide-q8.gguf"), w -> {});
        String fingerprint = Fingerprint.of(GgufWeightSource.open(stories260K()));
        for (DrafterKind kind : DrafterKind.values()) {
          Path heads = BundledHeads.find(kind, fingerprint).orElseThrow();
          HeadPadder.pad(kind, heads, padded, fingerprint);
        }
        wide = padded.path();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the padded test model", e);
      }
    }
    return wide;
  }

  /** The names of every backend the correctness tests run on. */
  public static Stream<String> backends() {
    return Stream.of("java", "torch");
  }

  /** A backend by name, with the thread count the command line and server use by default. */
  public static Backend backend(String name) {
    return switch (name) {
      case "java" -> JavaBackend.automatic();
      case "torch" -> TorchBackend.cpu();
      default -> throw new IllegalArgumentException("no backend " + name);
    };
  }

  /** Loads stories260K on the torch backend (what head training needs). */
  public static LlamaModel loadStories260K() {
    return loadStories260K("torch");
  }

  /** Loads stories260K on a backend. */
  public static LlamaModel loadStories260K(String backend) {
    return LlamaModel.load(stories260K(), backend(backend));
  }

  /** Models loaded once per backend for a test class; {@link #close} frees them. */
  public static final class PerBackend implements AutoCloseable {
    private final Path path;
    private final Map<String, LlamaModel> models = new HashMap<>();

    public PerBackend(Path path) {
      this.path = path;
    }

    /** The model on a backend, loaded on first use. */
    public LlamaModel get(String backend) {
      return models.computeIfAbsent(backend, name -> LlamaModel.load(path, backend(name)));
    }

    @Override
    public void close() {
      models.values().forEach(LlamaModel::close);
      models.clear();
    }
  }
}
