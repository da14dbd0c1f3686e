package io.specd.cli;

import com.typesafe.config.Config;
import io.specd.gpu.Backends;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.store.DownloadProgress;
import io.specd.kernels.store.ModelStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Option;

/** The options every command that loads a model shares. */
final class ModelOptions {
  @Option(
      names = "--model",
      paramLabel = "M",
      description =
          "GGUF file or Hugging Face directory (default: $SPECD_MODEL, else stories260K.gguf from"
              + " models/ here or in the checkout, shared/models beside them, the cache"
              + " ~/.cache/specd, or downloaded there).")
  Path model;

  @Option(
      names = "--backend",
      paramLabel = "B",
      description =
          "Compute backend: java (pure Java, the CPU default) or torch (DJL/PyTorch; the default"
              + " when a CUDA device is found).")
  String backend;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Compute threads (default: 1 for models narrower than 512, else all cores).")
  Integer threads;

  /** Resolves and loads the model on the chosen backend (this machine's default if none). */
  LlamaModel load() throws IOException {
    return load(backend);
  }

  /**
   * Resolves and loads the model.
   *
   * @param backendName the backend, or null for this machine's default
   */
  LlamaModel load(String backendName) throws IOException {
    return load(backendName, threads == null ? 0 : threads);
  }

  /** Loads on the backend the flags name, else the one the configuration names ({@code serve}). */
  LlamaModel load(Config config) throws IOException {
    String configured = config.getString("specd.gpu.backend");
    return load(
        backend != null ? backend : configured.isEmpty() ? null : configured,
        threads != null ? threads : config.getInt("specd.gpu.threads"));
  }

  private LlamaModel load(String backendName, int threadCount) throws IOException {
    return LlamaModel.load(path(), Backends.choose(backendName, threadCount));
  }

  /**
   * The model's file or directory: the one named, else the default model (found, or fetched with a
   * progress bar on standard error).
   */
  Path path() throws IOException {
    DownloadBar bar = new DownloadBar();
    try {
      return ModelStore.standard().withProgress(bar).resolve(Optional.ofNullable(model));
    } finally {
      bar.close();
    }
  }

  /** A progress bar that appears with the first bytes of a download. */
  private static final class DownloadBar implements DownloadProgress, AutoCloseable {
    private ProgressBar bar;

    @Override
    public void advanced(long done, long total) {
      if (bar == null || done < bar.getCurrent()) { // the first bytes, or a new attempt
        close();
        bar = ProgressBars.builder("download", Math.max(total, 0)).setUnit("KiB", 1024).build();
      }
      bar.stepTo(done);
    }

    @Override
    public void close() {
      if (bar != null) {
        bar.close();
        bar = null;
      }
    }
  }
}
