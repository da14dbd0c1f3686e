package io.specd.gpu;

import com.typesafe.config.Config;

/**
 * The device actor's settings ({@code specd.gpu} in {@code reference.conf}).
 *
 * @param maxBatch most requests fused into one forward (1: no batching)
 * @param prefillChunk most prompt tokens a round prefills: a longer prompt is prefilled in parts
 *     over several rounds, between the other sessions' steps
 * @param kvSlots KV caches held at most (live sessions)
 * @param contextLength tokens per KV cache; 0 for the model's context length
 * @param faultInjection whether {@link DeviceActor.InjectFault} is honoured (tests only)
 * @param warmUpSteps steps of the request the device runs on its own at start ({@link
 *     DeviceWarmUp}); 0 for none
 * @param replyNanos how long the device may hold a session's step results to send them together
 *     while it runs more of that session's steps; 0 sends each at once
 */
public record DeviceSettings(
    int maxBatch,
    int prefillChunk,
    int kvSlots,
    int contextLength,
    boolean faultInjection,
    int warmUpSteps,
    long replyNanos) {

  /** The dispatcher the device actor runs on. */
  public static final String DISPATCHER = "specd.gpu.dispatcher";

  public DeviceSettings {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("specd.gpu.max-batch must be >= 1, got " + maxBatch);
    }
    if (prefillChunk < 1) {
      throw new IllegalArgumentException(
          "specd.gpu.prefill-chunk must be >= 1, got " + prefillChunk);
    }
    if (kvSlots < 1) {
      throw new IllegalArgumentException("specd.gpu.kv-slots must be >= 1, got " + kvSlots);
    }
    if (contextLength < 0) {
      throw new IllegalArgumentException("specd.gpu.context-length must be >= 0");
    }
    if (warmUpSteps < 0) {
      throw new IllegalArgumentException("specd.gpu.warm-up-steps must be >= 0");
    }
    if (replyNanos < 0) {
      throw new IllegalArgumentException("specd.gpu.reply-interval must be >= 0");
    }
  }

  /** Reads {@code specd.gpu}. */
  public static DeviceSettings fromConfig(Config config) {
    Config c = config.getConfig("specd.gpu");
    return new DeviceSettings(
        c.getInt("max-batch"),
        c.getInt("prefill-chunk"),
        c.getInt("kv-slots"),
        c.getInt("context-length"),
        c.getBoolean("fault-injection"),
        c.getInt("warm-up-steps"),
        c.getDuration("reply-interval").toNanos());
  }

  /**
   * The KV budget sized from the device's free memory: as many KV caches as configured, or fewer
   * when they would take more than 80% of it (the rest is left to activations and the drafters).
   *
   * @param freeBytes free device memory, 0 when unknown (the CPU: the configured count stands)
   * @param bytesPerSlot memory one KV cache takes
   */
  public DeviceSettings fittedTo(long freeBytes, long bytesPerSlot) {
    if (freeBytes <= 0) {
      return this;
    }
    long fitting = Math.max(1, (long) (freeBytes * 0.8) / Math.max(1, bytesPerSlot));
    return fitting >= kvSlots
        ? this
        : new DeviceSettings(
            maxBatch,
            prefillChunk,
            (int) fitting,
            contextLength,
            faultInjection,
            warmUpSteps,
            replyNanos);
  }
}
