package io.specd.streams.http;

import akka.NotUsed;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.headers.CacheControl;
import akka.http.javadsl.model.headers.CacheDirectives;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.model.sse.ServerSentEvent;
import akka.stream.javadsl.Source;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;

/**
 * Server-sent events as OpenAI streams them: {@code data: <json>} events ending with {@code data:
 * [DONE]}, sent as a {@code text/event-stream} response whatever the request's {@code Accept} says
 * (OpenAI's SDKs send {@code Accept: application/json} with {@code stream: true}), with {@code
 * Cache-Control: no-cache} and {@code X-Accel-Buffering: no} so that proxies (nginx) pass each
 * event on at once, and a comment line as heartbeat while nothing else is sent.
 */
final class EventStream {
  /** The event that ends every stream. */
  static final ServerSentEvent DONE = ServerSentEvent.create(" [DONE]");

  private EventStream() {}

  /** An event written {@code data: <json>}, with OpenAI's space (SSE readers drop it). */
  static ServerSentEvent data(JsonNode json) {
    return ServerSentEvent.create(" " + Json.write(json));
  }

  /** A 200 response streaming the events, with a heartbeat after {@code keepAlive} of silence. */
  static HttpResponse response(Source<ServerSentEvent, NotUsed> events, Duration keepAlive) {
    return HttpResponse.create()
        .withEntity(
            HttpEntities.create(
                MediaTypes.TEXT_EVENT_STREAM.toContentType(),
                events
                    .keepAlive(keepAlive, ServerSentEvent::heartbeat)
                    // javadsl events are scaladsl events, which encode themselves
                    .map(event -> ((akka.http.scaladsl.model.sse.ServerSentEvent) event).encode())))
        .addHeader(CacheControl.create(CacheDirectives.NO_CACHE))
        .addHeader(RawHeader.create("X-Accel-Buffering", "no"));
  }
}
