package io.specd.actors;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Session and admission settings ({@code specd.session} in {@code reference.conf}).
 *
 * @param requestTimeout longest a request may run
 * @param maxSessions sessions decoding at once
 * @param admissionQueue requests that may wait for a session; beyond them the engine refuses
 * @param subscribeTimeout how long a started session waits for its consumer before it stops
 * @param readAhead how much of the device's time a session keeps asked for beyond the text its
 *     consumer has taken (in steps of the length it measures, at least a few)
 */
public record SessionSettings(
    Duration requestTimeout,
    int maxSessions,
    int admissionQueue,
    Duration subscribeTimeout,
    Duration readAhead) {

  public SessionSettings {
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException("specd.session.request-timeout must be positive");
    }
    if (maxSessions < 1) {
      throw new IllegalArgumentException("specd.session.max-sessions must be >= 1");
    }
    if (subscribeTimeout.isNegative() || subscribeTimeout.isZero()) {
      throw new IllegalArgumentException("specd.session.subscribe-timeout must be positive");
    }
    if (admissionQueue < 0) {
      throw new IllegalArgumentException("specd.session.admission-queue must be >= 0");
    }
    if (readAhead.isNegative()) {
      throw new IllegalArgumentException("specd.session.read-ahead must be >= 0");
    }
  }

  /** The same settings with another session limit. */
  public SessionSettings withMaxSessions(int newMaxSessions) {
    return new SessionSettings(
        requestTimeout, newMaxSessions, admissionQueue, subscribeTimeout, readAhead);
  }

  /** Reads {@code specd.session}. */
  public static SessionSettings fromConfig(Config config) {
    Config c = config.getConfig("specd.session");
    return new SessionSettings(
        c.getDuration("request-timeout"),
        c.getInt("max-sessions"),
        c.getInt("admission-queue"),
        c.getDuration("subscribe-timeout"),
        c.getDuration("read-ahead"));
  }
}
