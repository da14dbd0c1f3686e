package io.specd.streams;

import io.specd.gpu.DeviceDiscovery;
import io.specd.kernels.llama.Backend;
import io.specd.kernels.torch.TorchBackend;

/**
 * The compute backend a user names ({@code --backend}, {@code specd.backend}), or the default for
 * this machine.
 */
public final class Backends {
  /** The names {@link #choose} accepts. */
  public static final String NAMES = "torch";

  private Backends() {}

  /**
   * The backend to load models on.
   *
   * @param name {@code torch}, or null for this machine's default
   * @param threads compute threads, or 0 for the backend's choice per model
   * @throws IllegalArgumentException for an unknown name
   */
  public static Backend choose(String name, int threads) {
    if (name == null || name.equals("torch")) {
      return new TorchBackend(DeviceDiscovery.discover().device(), threads);
    }
    throw new IllegalArgumentException("unknown backend '" + name + "'; use one of " + NAMES);
  }
}
