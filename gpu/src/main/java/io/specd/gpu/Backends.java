package io.specd.gpu;

import io.specd.kernels.cpu.JavaBackend;
import io.specd.kernels.llama.Backend;
import io.specd.kernels.torch.TorchBackend;

/**
 * The compute backend a user names ({@code --backend}, {@code specd.backend}), or this machine's
 * default: {@code torch} on a CUDA device when one is found, else {@code java}.
 */
public final class Backends {
  /** The names {@link #choose} accepts. */
  public static final String NAMES = "java, torch";

  private Backends() {}

  /**
   * The backend to load models on.
   *
   * @param name {@code java}, {@code torch}, or null for this machine's default
   * @param threads compute threads, or 0 for the backend's choice per model
   * @throws IllegalArgumentException for an unknown name
   */
  public static Backend choose(String name, int threads) {
    if (name == null) {
      DeviceDiscovery.Found found = DeviceDiscovery.discover();
      return found.device().isGpu()
          ? new TorchBackend(found.device(), threads)
          : new JavaBackend(threads);
    }
    return switch (name) {
      case "java" -> new JavaBackend(threads);
      case "torch" -> new TorchBackend(DeviceDiscovery.discover().device(), threads);
      default ->
          throw new IllegalArgumentException("unknown backend '" + name + "'; use one of " + NAMES);
    };
  }
}
