package io.specd.streams.http;

import akka.NotUsed;
import akka.http.javadsl.model.AttributeKey;
import akka.http.javadsl.model.AttributeKeys;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.RemoteAddress;
import akka.stream.javadsl.Flow;
import java.net.InetAddress;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Caps the connections one client address may hold ({@code
 * specd.http.max-connections-per-address}), so that one client cannot take every connection the
 * server accepts. A connection counts from its first request until it closes; each request of a
 * connection over the cap carries {@link #KEY}, and the route answers it 429 and closes the
 * connection. (Connections that never finish a request head are closed by the header timeout.)
 * Thread-safe.
 */
final class ConnectionsPerAddress {
  /** Marks a request whose connection is over its address's cap. */
  static final AttributeKey<Boolean> KEY =
      AttributeKey.create("specd-over-address-cap", Boolean.class);

  private final int max;
  private final Map<InetAddress, Integer> open = new ConcurrentHashMap<>();

  ConnectionsPerAddress(int max) {
    this.max = max;
  }

  /** A connection's handler: {@code handler}, counting the connection against its address. */
  Flow<HttpRequest, HttpResponse, NotUsed> around(
      Flow<HttpRequest, HttpResponse, NotUsed> handler) {
    return Flow.fromMaterializer(
            (materializer, attributes) -> {
              AtomicReference<InetAddress> counted = new AtomicReference<>();
              boolean[] over = {false};
              return Flow.<HttpRequest>create()
                  .watchTermination(
                      (notUsed, done) -> {
                        done.whenComplete((ok, error) -> release(counted.get()));
                        return NotUsed.getInstance();
                      })
                  .map(
                      request -> {
                        if (counted.get() == null) {
                          Optional<InetAddress> address = address(request);
                          if (address.isPresent()) {
                            counted.set(address.get());
                            over[0] = open.merge(address.get(), 1, Integer::sum) > max;
                          }
                        }
                        return over[0] ? (HttpRequest) request.addAttribute(KEY, true) : request;
                      })
                  .via(handler);
            })
        .mapMaterializedValue(notUsed -> NotUsed.getInstance());
  }

  private static Optional<InetAddress> address(HttpRequest request) {
    return request.getAttribute(AttributeKeys.remoteAddress).flatMap(RemoteAddress::getAddress);
  }

  private void release(InetAddress address) {
    if (address != null) {
      open.computeIfPresent(address, (a, count) -> count == 1 ? null : count - 1);
    }
  }
}
