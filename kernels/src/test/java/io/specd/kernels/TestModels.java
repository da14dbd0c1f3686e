package io.specd.kernels;

import io.specd.kernels.cpu.JavaBackend;
import io.specd.kernels.format.GgmlType;
import io.specd.kernels.heads.BundledHeads;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.heads.DrafterSpec;
import io.specd.kernels.heads.lookup.LookupDrafter;
import io.specd.kernels.heads.lookup.LookupFirstDrafter;
import io.specd.kernels.llama.Backend;
import io.specd.kernels.llama.Fingerprint;
import io.specd.kernels.llama.GgufWeightSource;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.pad.HeadPadder;
import io.specd.kernels.pad.ModelPadder;
import io.specd.kernels.pad.PadPlan;
import io.specd.kernels.pad.PaddedModel;
import io.specd.kernels.spec.Drafter;
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

  /**
   * stories260K.gguf, found as the command line finds it ({@link ModelStore#standard}): {@code
   * SPECD_MODEL}, {@code models/} in the working directory or the checkout, {@code
   * ../shared/models} beside either, or the download cache.
   */
  public static Path stories260K() {
    return ModelStore.standard()
        .findLocal()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "stories260K.gguf not found: set SPECD_MODEL, put it in ./models of the"
                        + " checkout, or put ../shared/models beside the checkout"));
  }

  /** TinyStories-656K in GGUF Q8_0 (a second real model, beside stories260K). */
  public static Path tinyStoriesQ8() {
    return model("TinyStories-656K-Q8_0.gguf");
  }

  /**
   * A file of the test data's {@code models/} ({@link TestData}), e.g. {@code synthetic/x.gguf}.
   */
  public static Path model(String relative) {
    return TestData.file("models/" + relative);
  }

  /**
   * A llama.cpp reference output shipped with the tests (from {@code
   * ../shared/reference/llamacpp}).
   */
  public static Path llamaCppReference(String fileName) {
    return TestData.reference("llamacpp/" + fileName);
  }

  /** llama.cpp's greedy reference output for "Once upon a time" (256 tokens). */
  public static Path referenceOutput() {
    return TestData.reference("once-upon-a-time.greedy256.txt");
  }

  /**
   * A random-weight model of the test data's {@code models/synthetic/} (e.g. {@code
   * synth-256-Q4_K_M.gguf} or its {@code .dequant.json}).
   *
   * @throws IllegalStateException naming the setting if the file is missing
   */
  public static Path synthetic(String fileName) {
    return model("synthetic/" + fileName);
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

  /**
   * Every drafter the correctness tests run: prompt lookup, each kind with the heads that ship for
   * the default model, and each kind with prompt lookup first.
   */
  public static Stream<String> drafters() {
    Stream<String> kinds = Stream.of(DrafterKind.values()).map(DrafterKind::id);
    Stream<String> lookupFirst =
        Stream.of(DrafterKind.values()).map(kind -> kind.id() + LookupFirstDrafter.SUFFIX);
    return Stream.of(Stream.of(LookupDrafter.NAME), kinds, lookupFirst).flatMap(s -> s);
  }

  /**
   * A drafter of {@link #drafters()} on {@code model} (the kinds with their shipped heads).
   *
   * @param sessions how many requests may draft at once
   * @param capacity positions per request
   */
  public static Drafter drafter(String name, LlamaModel model, int sessions, int capacity) {
    if (name.equals(LookupDrafter.NAME)) {
      return new LookupDrafter(model.config());
    }
    DrafterSpec spec = DrafterSpec.parse(name);
    Path heads =
        BundledHeads.find(spec.kind(), model)
            .orElseThrow(() -> new AssertionError("no bundled heads for " + name));
    return spec.load(model, heads, sessions, capacity);
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
