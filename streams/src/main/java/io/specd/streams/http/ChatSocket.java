package io.specd.streams.http;

import akka.NotUsed;
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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
  private final RequestReader reader;
  private final Function<ApiRequest, Source<TokenEvent, NotUsed>> generations;

  /**
   * @param engine the engine (its actor system runs the frame reading)
   * @param reader reads and checks each request
   * @param generations runs a request: its events
   */
  ChatSocket(
      Engine engine,
      RequestReader reader,
      Function<ApiRequest, Source<TokenEvent, NotUsed>> generations) {
    this.engine = engine;
    this.reader = reader;
    this.generations = generations;
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
        .mapAsync(1, this::text)
        .flatMapConcat(text -> answer(text).via(closed.flow()))
        .map(frame -> (Message) TextMessage.create(Json.write(frame)));
  }

  /** The text of a frame, strict or streamed; empty for a binary frame (whose data is drained). */
  private CompletionStage<Optional<String>> text(Message message) {
    if (!message.isText()) {
      message.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), engine.system());
      return CompletableFuture.completedFuture(Optional.empty());
    }
    TextMessage text = message.asTextMessage();
    if (text.isStrict()) {
      return CompletableFuture.completedFuture(Optional.of(text.getStrictText()));
    }
    return text.getStreamedText()
        .runFold(new StringBuilder(), StringBuilder::append, engine.system())
        .thenApply(all -> Optional.of(all.toString()));
  }

  private Source<ObjectNode, NotUsed> answer(Optional<String> text) {
    ApiRequest request;
    try {
      if (text.isEmpty()) {
        throw ApiError.invalid(
            null, "invalid_type", "send each request as a text frame holding a JSON object");
      }
      JsonNode root = RequestReader.parse(text.get());
      ApiRequest.Kind kind =
          root.has("messages") ? ApiRequest.Kind.CHAT : ApiRequest.Kind.COMPLETION;
      request = reader.read(root, kind);
    } catch (ApiError e) {
      return Source.single(error(e));
    }
    return generations
        .apply(request)
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
