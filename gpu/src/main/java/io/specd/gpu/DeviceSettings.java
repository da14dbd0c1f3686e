package io.specd.gpu;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The device actor's settings ({@code specd.gpu} in {@code reference.conf}).
 *
 * @param maxBatch most requests fused into one forward (1: no batching)
 * @param batchWindow longest wait of the first queued request for others
 * @param kvSlots KV caches held at most (live sessions)
 * @param contextLength tokens per KV cache; 0 for the model's context length
 * @param faultInjection whether {@link DeviceActor.InjectFault} is honoured (tests only)
 */
public record DeviceSettings(
    int maxBatch, Duration batchWindow, int kvSlots, int contextLength, boolean faultInjection) {

  /** The dispatcher the device actor runs on. */
  public static final String DISPATCHER = "specd.gpu.dispatcher";

  public DeviceSettings {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("specd.gpu.max-batch must be >= 1, got " + maxBatch);
    }
    if (batchWindow.isNegative()) {
      throw new IllegalArgumentException("specd.gpu.batch-window must not be negative");
    }
    if (kvSlots < 1) {
      throw new IllegalArgumentException("specd.gpu.kv-slots must be >= 1, got " + kvSlots);
    }
    if (contextLength < 0) {
      throw new IllegalArgumentException("specd.gpu.context-length must be >= 0");
    }
  }

  /** Reads {@code specd.gpu}. */
  public static DeviceSettings fromConfig(Config config) {
    Config c = config.getConfig("specd.gpu");
    return new DeviceSettings(
        c.getInt("max-batch"),
        c.getDuration("batch-window"),
        c.getInt("kv-slots"),
        c.getInt("context-length"),
        c.getBoolean("fault-injection"));
  }

  /** The same settings with another batch limit. */
  public DeviceSettings withMaxBatch(int newMaxBatch) {
    return new DeviceSettings(newMaxBatch, batchWindow, kvSlots, contextLength, faultInjection);
  }
}
