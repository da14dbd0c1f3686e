package io.specd.gpu;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How the device actor is restarted after a failed batch ({@code specd.gpu.restart} in {@code
 * reference.conf}): after a growing pause, and not for ever.
 *
 * @param minBackoff the pause before the first restart, doubled for each one after it
 * @param maxBackoff the longest pause
 * @param maxRestarts restarts in a row (without a quiet {@code minBackoff} between them) after
 *     which the device stays down and the engine reports itself unavailable
 */
public record RestartSettings(Duration minBackoff, Duration maxBackoff, int maxRestarts) {

  public RestartSettings {
    if (minBackoff.isNegative() || minBackoff.isZero() || maxBackoff.compareTo(minBackoff) < 0) {
      throw new IllegalArgumentException(
          "specd.gpu.restart needs 0 < min-backoff <= max-backoff, got "
              + minBackoff
              + " and "
              + maxBackoff);
    }
    if (maxRestarts < 0) {
      throw new IllegalArgumentException("specd.gpu.restart.max-restarts must be >= 0");
    }
  }

  /** Reads {@code specd.gpu.restart}. */
  public static RestartSettings fromConfig(Config config) {
    Config c = config.getConfig("specd.gpu.restart");
    return new RestartSettings(
        c.getDuration("min-backoff"), c.getDuration("max-backoff"), c.getInt("max-restarts"));
  }
}
