package io.specd.streams.http;

import akka.NotUsed;
import akka.http.javadsl.model.AttributeKey;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.stream.javadsl.Flow;
import io.specd.streams.SpecDecoding;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generations one HTTP connection started. A whole (not streamed) response writes nothing until
 * its generation ends, so nothing would notice a client that hung up: when the connection closes,
 * every generation it started is cancelled, running or waiting for a session. Each request carries
 * its connection's scope as the attribute {@link #KEY}. Thread-safe.
 */
final class ConnectionScope {
  /** The request attribute that holds the scope of the request's connection. */
  static final AttributeKey<ConnectionScope> KEY =
      AttributeKey.create("specd-connection", ConnectionScope.class);

  private final Set<SpecDecoding.Control> running = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * A connection's handler: {@code handler} with each request tagged with the connection's scope,
   * which is closed when the client stops sending (closes its side, or the connection ends).
   */
  static Flow<HttpRequest, HttpResponse, NotUsed> around(
      Flow<HttpRequest, HttpResponse, NotUsed> handler) {
    return Flow.fromMaterializer(
            (materializer, attributes) -> {
              ConnectionScope scope = new ConnectionScope();
              return Flow.<HttpRequest>create()
                  .watchTermination(
                      (notUsed, done) -> {
                        done.whenComplete((ok, error) -> scope.close());
                        return NotUsed.getInstance();
                      })
                  .map(request -> (HttpRequest) request.addAttribute(KEY, scope))
                  .via(handler);
            })
        .mapMaterializedValue(notUsed -> NotUsed.getInstance());
  }

  /** Cancels the generation when the connection ends first. */
  void track(SpecDecoding.Control generation) {
    running.add(generation);
    generation.done().whenComplete((ok, error) -> running.remove(generation));
    if (closed) {
      generation.cancel();
    }
  }

  /** Whether the client has gone. */
  boolean isClosed() {
    return closed;
  }

  private void close() {
    closed = true;
    running.forEach(SpecDecoding.Control::cancel);
  }
}
