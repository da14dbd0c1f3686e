package io.specd.streams.cli;

import io.specd.gpu.DeviceDiscovery;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.WeightSource;
import io.specd.kernels.runtime.TorchRuntime;
import io.specd.kernels.store.ModelStore;
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
      names = "--threads",
      paramLabel = "N",
      defaultValue = "0",
      description = "PyTorch threads (default: 1 for small models, all cores for large ones).")
  int threads;

  /** Resolves, opens and loads the model, and sets the thread count for it. */
  LlamaModel load() throws IOException {
    Path path = ModelStore.standard().resolve(Optional.ofNullable(model));
    WeightSource source = LlamaModel.open(path);
    TorchRuntime.useThreads(TorchRuntime.threadsFor(source.config(), threads));
    return LlamaModel.load(path, DeviceDiscovery.discover().device());
  }
}
