package io.specd.streams.http;

import static akka.http.javadsl.server.Directives.complete;
import static akka.http.javadsl.server.Directives.extractRequest;
import static akka.http.javadsl.server.Directives.respondWithHeaders;

import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Host;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.Route;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Keeps web pages from driving a server that trusts its network position (a keyless server on
 * loopback): a request whose {@code Host} is not the server's (DNS rebinding) or whose {@code
 * Origin} is a foreign page (cross-site requests, WebSocket hijacking) is refused with 403 before
 * any route runs. Non-browser clients send no {@code Origin} and pass. CORS is answered only for
 * the configured origins. Immutable.
 */
final class BrowserGuard {
  private static final List<String> LOOPBACK = List.of("localhost", "127.0.0.1", "[::1]", "::1");
  private static final List<String> WILDCARDS = List.of("0.0.0.0", "::", "[::]");
  private static final List<HttpHeader> PREFLIGHT =
      List.of(
          RawHeader.create("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
          RawHeader.create("Access-Control-Allow-Headers", "Authorization, Content-Type"),
          RawHeader.create("Access-Control-Max-Age", "600"));

  private final Set<String> hosts = new HashSet<>();
  private final BrowserSettings settings;

  /**
   * @param boundHost the address the server listens on (its own name is always allowed)
   * @param settings the configured hosts and origins
   */
  BrowserGuard(String boundHost, BrowserSettings settings) {
    this.settings = settings;
    hosts.addAll(LOOPBACK);
    hosts.add(lower(boundHost));
    hosts.addAll(settings.allowedHosts());
    if (WILDCARDS.contains(boundHost) && settings.allowedHosts().isEmpty()) {
      hosts.add(BrowserSettings.ANY); // every interface: the names clients use are not known
    }
  }

  /** {@code inner} behind the checks, with CORS headers for the configured origins. */
  Route around(Route inner) {
    return extractRequest(
        request -> {
          Optional<ApiError> refusal = refusal(request);
          if (refusal.isPresent()) {
            return complete(Errors.response(refusal.get()));
          }
          Optional<String> origin = request.getHeader("Origin").map(HttpHeader::value);
          if (origin.isEmpty() || !settings.corsOrigins().contains(lower(origin.get()))) {
            return inner;
          }
          List<HttpHeader> cors =
              List.of(
                  RawHeader.create("Access-Control-Allow-Origin", origin.get()),
                  RawHeader.create("Vary", "Origin"));
          if (request.method().equals(HttpMethods.OPTIONS)) {
            return complete(
                HttpResponse.create()
                    .withStatus(StatusCodes.NO_CONTENT)
                    .addHeaders(cors)
                    .addHeaders(PREFLIGHT));
          }
          return respondWithHeaders(cors, () -> inner);
        });
  }

  private Optional<ApiError> refusal(HttpRequest request) {
    Optional<Host> host = request.getHeader(Host.class);
    String name = host.map(h -> lower(h.host().address())).orElse("");
    if (!name.isEmpty() && !hosts.contains(name) && !hosts.contains(BrowserSettings.ANY)) {
      return Optional.of(
          forbidden(
              "host_not_allowed",
              "Host '"
                  + name
                  + "' is not this server's; add it to specd.http.allowed-hosts to serve it"));
    }
    Optional<String> origin = request.getHeader("Origin").map(h -> lower(h.value()));
    if (origin.isPresent() && !originAllowed(origin.get(), host)) {
      return Optional.of(
          forbidden(
              "origin_not_allowed",
              "pages from "
                  + origin.get()
                  + " may not call this server; add the origin to specd.http.allowed-origins"));
    }
    return Optional.empty();
  }

  /** The server's own pages (same origin), and the configured origins. */
  private boolean originAllowed(String origin, Optional<Host> host) {
    boolean sameOrigin = host.map(h -> origin.equals("http://" + lower(h.value()))).orElse(false);
    return sameOrigin
        || settings.allowedOrigins().contains(origin)
        || settings.allowedOrigins().contains(BrowserSettings.ANY)
        || settings.corsOrigins().contains(origin);
  }

  private static ApiError forbidden(String code, String message) {
    return new ApiError(StatusCodes.FORBIDDEN, "invalid_request_error", message, null, code);
  }

  private static String lower(String text) {
    return text.toLowerCase(Locale.ROOT);
  }
}
