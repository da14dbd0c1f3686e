package io.specd.streams.http;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Optional;

/**
 * The HTTP server's settings ({@code specd.http} in {@code reference.conf}).
 *
 * @param host the interface to listen on
 * @param port the TCP port (0 picks a free one)
 * @param apiKey the bearer key every {@code /v1} route requires; empty for none
 * @param protectMetrics whether {@code /metrics} requires the API key too
 * @param shutdownDeadline how long requests in flight may run on after the server stops accepting
 *     connections
 * @param keepAlive quiet time after which SSE streams get a heartbeat and WebSockets a ping
 * @param headerTimeout how long a connection may take to send a request head, from its opening or
 *     the end of its last response, before it is closed
 * @param maxConnections connections open at once; more wait to be accepted
 * @param maxConnectionsPerAddress connections one client address may use at once; the requests of
 *     more get 429 and their connection is closed
 * @param limits what one request may ask for
 * @param browser who may address the server from a browser
 */
public record HttpSettings(
    String host,
    int port,
    String apiKey,
    boolean protectMetrics,
    Duration shutdownDeadline,
    Duration keepAlive,
    Duration headerTimeout,
    int maxConnections,
    int maxConnectionsPerAddress,
    RequestLimits limits,
    BrowserSettings browser) {

  public HttpSettings {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("specd.http.host must name an interface");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("specd.http.port must be in [0, 65535], got " + port);
    }
    if (apiKey == null) {
      throw new IllegalArgumentException("specd.http.api-key must be a string (\"\" for none)");
    }
    if (shutdownDeadline.isNegative()) {
      throw new IllegalArgumentException("specd.http.shutdown-deadline must not be negative");
    }
    if (keepAlive.isNegative() || keepAlive.isZero()) {
      throw new IllegalArgumentException("specd.http.keep-alive must be positive");
    }
    if (headerTimeout.isNegative() || headerTimeout.isZero()) {
      throw new IllegalArgumentException("specd.http.header-timeout must be positive");
    }
    if (maxConnections < 1 || maxConnectionsPerAddress < 1) {
      throw new IllegalArgumentException(
          "specd.http.max-connections and max-connections-per-address must be >= 1");
    }
  }

  /** Reads {@code specd.http}. */
  public static HttpSettings fromConfig(Config config) {
    Config c = config.getConfig("specd.http");
    return new HttpSettings(
        c.getString("host"),
        c.getInt("port"),
        c.getString("api-key"),
        c.getBoolean("protect-metrics"),
        c.getDuration("shutdown-deadline"),
        c.getDuration("keep-alive"),
        c.getDuration("header-timeout"),
        c.getInt("max-connections"),
        c.getInt("max-connections-per-address"),
        RequestLimits.fromConfig(c),
        BrowserSettings.fromConfig(c));
  }

  /** The API key, if one is required. */
  public Optional<String> requiredApiKey() {
    return apiKey.isEmpty() ? Optional.empty() : Optional.of(apiKey);
  }

  /** The same settings on another port (tests bind port 0). */
  public HttpSettings withPort(int newPort) {
    return new HttpSettings(
        host,
        newPort,
        apiKey,
        protectMetrics,
        shutdownDeadline,
        keepAlive,
        headerTimeout,
        maxConnections,
        maxConnectionsPerAddress,
        limits,
        browser);
  }
}
