package io.specd.streams.cli;

import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.store.ModelStore;
import io.specd.streams.Backends;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** The options every command that loads a model shares. */
final class ModelOptions {
  @Option(
      names = "--model",
      paramLabel = "M",
      description =
          "GGUF file or Hugging Face directory. Default: $SPECD_MODEL, ./models/stories260K.gguf,"
              + " ../shared/models/stories260K.gguf, else downloaded to ~/.cache/specd.")
  Path model;

  @Option(
      names = "--backend",
      paramLabel = "B",
      description = "Compute backend: " + Backends.NAMES + " (default: this machine's).")
  String backend;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "0",
      description = "Compute threads (default: 1 for small models, all cores for large ones).")
  int threads;

  /** Resolves and loads the model on the chosen backend. */
  LlamaModel load() throws IOException {
    Path path = ModelStore.standard().resolve(Optional.ofNullable(model));
    return LlamaModel.load(path, Backends.choose(backend, threads));
  }
}
