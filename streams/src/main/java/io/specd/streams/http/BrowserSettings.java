package io.specd.streams.http;

import com.typesafe.config.Config;
import java.util.List;
import java.util.Locale;

/**
 * Who may address the server from a browser ({@code specd.http} in {@code reference.conf}).
 *
 * @param allowedHosts host names a request's {@code Host} may carry besides the loopback names and
 *     the bound address ({@code *}: any), against DNS rebinding; empty on a server bound to every
 *     interface (0.0.0.0) means any
 * @param allowedOrigins origins whose pages may call the API besides the server's own ({@code *}:
 *     any), against cross-site requests and WebSocket hijacking
 * @param corsOrigins origins answered with CORS headers (and preflights); empty turns CORS off.
 *     Each is also an allowed origin
 */
public record BrowserSettings(
    List<String> allowedHosts, List<String> allowedOrigins, List<String> corsOrigins) {

  /** Any host or origin. */
  static final String ANY = "*";

  public BrowserSettings {
    allowedHosts = lowerCase(allowedHosts);
    allowedOrigins = lowerCase(allowedOrigins);
    corsOrigins = lowerCase(corsOrigins);
  }

  /** Reads {@code specd.http.allowed-hosts}, {@code allowed-origins} and {@code cors-origins}. */
  public static BrowserSettings fromConfig(Config http) {
    return new BrowserSettings(
        http.getStringList("allowed-hosts"),
        http.getStringList("allowed-origins"),
        http.getStringList("cors-origins"));
  }

  private static List<String> lowerCase(List<String> names) {
    return names.stream().map(name -> name.toLowerCase(Locale.ROOT)).toList();
  }
}
