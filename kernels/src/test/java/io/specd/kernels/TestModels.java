package io.specd.kernels;

import ai.djl.Device;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.runtime.TorchRuntime;
import io.specd.kernels.store.ModelStore;
import java.nio.file.Files;
import java.nio.file.Path;

/** The real model files the tests run on (never mocks). */
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

  /** Loads stories260K with the thread count the command line and server use for it. */
  public static LlamaModel loadStories260K() {
    LlamaModel model = LlamaModel.load(stories260K(), Device.cpu());
    TorchRuntime.useThreads(TorchRuntime.threadsFor(model.config(), 0));
    return model;
  }
}
