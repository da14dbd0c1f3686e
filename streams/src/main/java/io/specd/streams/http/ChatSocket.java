package io.specd.streams.http;

import akka.NotUsed;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.japi.pf.PFBuilder;
import akka.stream.KillSwitches;
import akka.stream.SharedKillSwitch;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.actors.Engine;
import io.specd.actors.TokenEvent;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The WebSocket protocol of {@code GET /v1/ws}. The client sends one text frame per request, a JSON
 * object with {@code prompt} (a completion) or {@code messages} (a chat, rendered through the chat
 * template) and the same parameters as the HTTP API; the server answers {@code {"type": "token",
 * "text", "tokens", "spans"}} frames (see {@link TokenProvenance}) and one {@code {"type": "done",
 * "finish_reason", "usage"}}, or one {@code {"type": "error", "message", "param", "code"}}.
 * Requests on a connection run one after another; closing the connection cancels the one running.
 * Stateless: one flow per connection.
 */
final class ChatSocket {
  private final Engine engine;
  private final BiFunction<JsonNode, ApiRequest.Kind, CompletionStage<ApiRequest>> reader;
  private final Function<ApiRequest, Source<TokenEvent, NotUsed>> generations;
  private final long maxMessageChars;

  /**
   * @param engine the engine (its actor system runs the frame reading)
   * @param reader reads and checks each request
   * @param generations runs a request: its events
   * @param maxMessageChars the longest message; a longer one is drained (never held) and refused
   */
  ChatSocket(
      Engine engine,
      BiFunction<JsonNode, ApiRequest.Kind, CompletionStage<ApiRequest>> reader,
      Function<ApiRequest, Source<TokenEvent, NotUsed>> generations,
      long maxMessageChars) {
    this.engine = engine;
    this.reader = reader;
    this.generations = generations;
    this.maxMessageChars = maxMessageChars;
  }

  /** The flow of one connection (each materialization is a connection of its own). */
  Flow<Message, Message, NotUsed> flow() {
    return Flow.fromMaterializer((materializer, attributes) -> connection())
        .mapMaterializedValue(ignored -> NotUsed.getInstance());
  }

  /**
   * Requests in, answers out. When the client closes, the incoming side ends while an answer may
   * still stream: the kill switch then ends that answer, which cancels its session (without it the
   * session would run to its end before the close handshake completes).
   */
  private Flow<Message, Message, NotUsed> connection() {
    SharedKillSwitch closed = KillSwitches.shared("websocket-closed");
    return Flow.<Message>create()
        .watchTermination(
            (notUsed, done) -> {
              done.whenComplete((ok, error) -> closed.shutdown());
              return notUsed;
            })
        .mapAsync(1, this::request)
        .flatMapConcat(read -> answer(read).via(closed.flow()))
        .map(frame -> (Message) TextMessage.create(Json.write(frame)));
  }

  /** A message read: its request, or the error that refuses it. */
  private record Read(ApiRequest request, ApiError refusal) {}

  private CompletionStage<Read> request(Message message) {
    return text(message)
        .thenCompose(this::read)
        .thenApply(request -> new Read(request, null))
        .exceptionally(e -> new Read(null, Errors.toApiError(e)));
  }

  private CompletionStage<ApiRequest> read(String text) {
    JsonNode root = RequestReader.parse(text);
    return reader.apply(
        root, root.has("messages") ? ApiRequest.Kind.CHAT : ApiRequest.Kind.COMPLETION);
  }

  /**
   * The text of a message, strict or streamed, failed with an {@link ApiError} for a binary message
   * or one over the size limit (their data is drained, never held).
   */
  private CompletionStage<String> text(Message message) {
    if (!message.isText()) {
      message.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), engine.system());
      return CompletableFuture.failedFuture(
          ApiError.invalid(
              null, "invalid_type", "send each request as a text frame holding a JSON object"));
    }
    TextMessage text = message.asTextMessage();
    if (text.isStrict()) {
      return CompletableFuture.completedFuture(within(text.getStrictText()));
    }
    return text.getStreamedText()
        .runFold(new StringBuilder(), this::appendWithin, engine.system())
        .thenApply(all -> within(all.toString()));
  }

  /** Appends a part while the text is within the limit; beyond it, parts are dropped. */
  private StringBuilder appendWithin(StringBuilder all, String part) {
    return all.length() > maxMessageChars ? all : all.append(part);
  }

  private String within(String text) {
    if (text.length() > maxMessageChars) {
      throw new ApiError(
          StatusCodes.PAYLOAD_TOO_LARGE,
          "invalid_request_error",
          "the message is longer than this server's limit of "
              + maxMessageChars
              + " characters (specd.http.limits.body-bytes)",
          null,
          "payload_too_large");
    }
    return text;
  }

  private Source<ObjectNode, NotUsed> answer(Read read) {
    if (read.refusal() != null) {
      return Source.single(error(read.refusal()));
    }
    return generations
        .apply(read.request())
        .mapConcat(ChatSocket::frames)
        .recoverWithRetries(
            1,
            new PFBuilder<Throwable, Source<ObjectNode, NotUsed>>()
                .matchAny(e -> Source.single(error(Errors.toApiError(e))))
                .build());
  }

  private static List<ObjectNode> frames(TokenEvent event) {
    if (event instanceof TokenEvent.Tokens tokens) {
      if (tokens.text().isEmpty()) {
        return List.of();
      }
      ObjectNode frame = Json.object().put("type", "token").put("text", tokens.text());
      return List.of(TokenProvenance.write(frame, tokens));
    }
    if (event instanceof TokenEvent.Finished finished) {
      ObjectNode frame = Json.object();
      frame.put("type", "done");
      frame.put("finish_reason", finished.reason().openAiName());
      frame.set("usage", OpenAiResponses.usage(finished.usage()));
      return List.of(frame);
    }
    TokenEvent.Failed failed = (TokenEvent.Failed) event;
    return List.of(
        Json.object()
            .put("type", "error")
            .put("message", failed.message())
            .putNull("param")
            .put("code", "generation_failed"));
  }

  private static ObjectNode error(ApiError e) {
    ObjectNode frame = Json.object();
    frame.put("type", "error");
    frame.put("message", e.getMessage());
    frame.put("param", e.param());
    frame.put("code", e.code());
    return frame;
  }
}
