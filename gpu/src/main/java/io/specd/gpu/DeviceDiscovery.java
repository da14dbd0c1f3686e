package io.specd.gpu;

import ai.djl.Device;
import io.specd.kernels.llama.Backend;
import io.specd.kernels.torch.TorchBackend;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.SizeTPointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the device to run on: the CUDA GPU with the most free memory, found through bytedeco's CUDA
 * bindings, or else the CPU. Discovery fails soft: no CUDA natives, no driver or no device all mean
 * the CPU, said in the log. The CUDA natives come with the {@code cuda} Maven profile.
 */
public final class DeviceDiscovery {
  private static final Logger LOG = LoggerFactory.getLogger(DeviceDiscovery.class);

  private DeviceDiscovery() {}

  /**
   * A device found.
   *
   * @param device the DJL device
   * @param freeBytes free memory on it (0 for the CPU: bounded by the KV slots setting)
   * @param description what the log says
   */
  public record Found(Device device, long freeBytes, String description) {}

  /** The best device here, logged. */
  public static Found discover() {
    Found found = bestGpu().orElse(null);
    if (found == null) {
      found = new Found(Device.cpu(), 0, "CPU (no CUDA device found)");
    }
    LOG.info("running on {}", found.description());
    return found;
  }

  /** Every CUDA device and its free memory; empty when CUDA is unavailable. */
  public static List<Found> gpus() {
    List<Found> found = new ArrayList<>();
    try {
      int[] count = new int[1];
      if (cudart.cudaGetDeviceCount(count) != cudart.cudaSuccess) {
        return found;
      }
      for (int i = 0; i < count[0]; i++) {
        if (cudart.cudaSetDevice(i) != cudart.cudaSuccess) {
          continue;
        }
        try (SizeTPointer free = new SizeTPointer(1);
            SizeTPointer total = new SizeTPointer(1)) {
          if (cudart.cudaMemGetInfo(free, total) == cudart.cudaSuccess) {
            found.add(
                new Found(
                    Device.gpu(i),
                    free.get(),
                    "CUDA device " + i + " (" + (free.get() >> 20) + " MiB free)"));
          }
        }
      }
    } catch (LinkageError | RuntimeException e) {
      LOG.debug("CUDA unavailable: {}", e.toString());
    }
    return found;
  }

  /**
   * Free memory of the device a backend computes on, in bytes; 0 for the CPU (the {@code java}
   * backend, or {@code torch} on the CPU) or when CUDA cannot tell.
   */
  public static long freeBytes(Backend backend) {
    return backend instanceof TorchBackend torch ? freeBytes(torch.device()) : 0;
  }

  /** Free memory on a device in bytes; 0 for the CPU or when CUDA cannot tell. */
  public static long freeBytes(Device device) {
    if (!device.isGpu()) {
      return 0;
    }
    return gpus().stream()
        .filter(found -> found.device().equals(device))
        .mapToLong(Found::freeBytes)
        .findFirst()
        .orElse(0);
  }

  private static Optional<Found> bestGpu() {
    return gpus().stream().max(Comparator.comparingLong(Found::freeBytes));
  }
}
