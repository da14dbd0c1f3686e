package io.specd.gpu;

/**
 * Receives the device actor's measurements (the engine feeds them to its metrics). Called on the
 * device actor's thread: implementations must be quick and thread-safe.
 */
public interface DeviceObserver {
  /** Does nothing. */
  DeviceObserver NONE = new DeviceObserver() {};

  /**
   * A batch ran.
   *
   * @param kind {@code prefill} or {@code verify}
   * @param size requests in the batch
   * @param nanos the batch's wall time
   */
  default void batchRan(String kind, int size, long nanos) {}

  /**
   * The device's cost model of a verification step, refitted after each: {@code fixedSeconds +
   * secondsPerToken × tokens}, tokens being all the batch verifies (drafts and roots).
   */
  default void stepCosts(double fixedSeconds, double secondsPerToken) {}

  /**
   * The device's measured cost of a verification step of {@code tokens} verified tokens (drafts and
   * roots of the whole batch), interpolated between the sizes it has run, refitted after each.
   */
  default void stepCost(int tokens, double seconds) {}

  /** Prompts waiting for their prefill and sessions waiting for a step, after a round. */
  default void queueDepth(int depth) {}

  /** Sessions holding a KV cache. */
  default void liveSessions(int count) {}
}
