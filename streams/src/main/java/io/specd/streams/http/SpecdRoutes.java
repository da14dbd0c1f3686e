package io.specd.streams.http;

import static akka.http.javadsl.server.Directives.*;
import static akka.http.javadsl.server.PathMatchers.segment;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.DispatcherSelector;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Connection;
import akka.http.javadsl.model.headers.HttpChallenge;
import akka.http.javadsl.model.headers.WWWAuthenticate;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import akka.stream.javadsl.Source;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.specd.actors.Engine;
import io.specd.actors.PreparedRequest;
import io.specd.actors.TokenEvent;
import io.specd.streams.SpecDecoding;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import scala.jdk.javaapi.DurationConverters;

/**
 * specd's HTTP API, as one route: the OpenAI endpoints {@code POST /v1/completions}, {@code POST
 * /v1/chat/completions} (whole or as server-sent events) and {@code GET /v1/models}, the WebSocket
 * {@code GET /v1/ws}, and {@code GET /health}, {@code GET /metrics} (Prometheus text) and {@code
 * GET /} (the chat page). Every error is an OpenAI JSON error body. With an API key configured,
 * {@code /v1} needs {@code Authorization: Bearer <key>} ({@code /v1/ws} also takes {@code
 * ?api_key=<key>}, since browsers cannot set headers on a WebSocket).
 *
 * <p>Each generation is one {@link SpecDecoding#source}: demand-driven, so a slow client slows its
 * session, and a client that goes away cancels it; {@link Completions} runs a request's choices and
 * writes its answer. A streamed response starts once the first event is decoded, so that a refused
 * request still gets its 429 or 400 status. Thread-safe.
 */
public final class SpecdRoutes {
  /** The chat page's files: the page, its script, style and icon (served under {@code /page/}). */
  private static final String PAGE = "io/specd/streams/http/page";

  private static final String CHAT_PAGE = PAGE + "/chat.html";
  private static final ContentType METRICS_TYPE =
      ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8");
  private static final String READING_DISPATCHER = "specd.http.tokenizer-dispatcher";

  private final Engine engine;
  private final HttpSettings settings;
  private final String modelId;
  private final long created = Instant.now().getEpochSecond();
  private final ChatTemplate chatTemplate;
  private final RequestReader reader;
  private final Executor reading;
  private final ChatSocket socket;
  private final Completions completions;
  private final BrowserGuard browserGuard;
  private final Semaphore pendingReads;
  private final InFlight inFlight = new InFlight();
  private final PrometheusTextFormatWriter metricsWriter = PrometheusTextFormatWriter.create();

  /**
   * @param engine runs the requests
   * @param settings the API key, keep-alive interval, limits and browser rules
   */
  public SpecdRoutes(Engine engine, HttpSettings settings) {
    this.engine = engine;
    this.settings = settings;
    this.modelId = modelId(engine);
    this.chatTemplate = ChatTemplate.forModel(engine.model());
    this.reader = new RequestReader(engine, modelId, chatTemplate, settings.limits());
    this.reading =
        engine.system().dispatchers().lookup(DispatcherSelector.fromConfig(READING_DISPATCHER));
    this.socket = new ChatSocket(engine, this::read, this::events, settings.limits().bodyBytes());
    this.completions =
        new Completions(engine.system(), modelId, engine.model().tokenizer(), settings.keepAlive());
    this.browserGuard = new BrowserGuard(settings.host(), settings.browser());
    this.pendingReads = new Semaphore(settings.limits().pendingReads());
  }

  /** The id clients use for the model: its file (or directory) name. */
  public static String modelId(Engine engine) {
    return engine.model().source().getFileName().toString();
  }

  /** The whole API, with its error handling. */
  public Route route() {
    Route api =
        concat(
            pathEndOrSingleSlash(
                () -> get(() -> getFromResource(CHAT_PAGE, ContentTypes.TEXT_HTML_UTF8))),
            pathPrefix("page", () -> get(() -> getFromResourceDirectory(PAGE))),
            path("health", () -> get(this::healthRoute)),
            path("metrics", () -> get(this::metricsRoute)),
            pathPrefix("v1", this::v1));
    return handleExceptions(
        Errors.exceptionHandler(),
        () ->
            handleRejections(
                Errors.rejectionHandler(), () -> browserGuard.around(withinAddressCap(api))));
  }

  /**
   * Answers 429 and closes the connection when it is one too many for its client's address ({@link
   * ConnectionsPerAddress}).
   */
  private Route withinAddressCap(Route inner) {
    return optionalAttribute(
        ConnectionsPerAddress.KEY,
        over ->
            over.isEmpty()
                ? inner
                : complete(
                    Errors.response(
                            new ApiError(
                                StatusCodes.TOO_MANY_REQUESTS,
                                "rate_limit_exceeded",
                                "this client address has "
                                    + settings.maxConnectionsPerAddress()
                                    + " connections open already"
                                    + " (specd.http.max-connections-per-address)",
                                null,
                                "too_many_connections"))
                        .addHeader(Connection.create("close"))));
  }

  private Route v1() {
    return concat(
        path("ws", () -> authorized(true, () -> get(() -> handleWebSocketMessages(socket.flow())))),
        authorized(
            false,
            () ->
                concat(
                    path("completions", () -> post(() -> generate(ApiRequest.Kind.COMPLETION))),
                    path(
                        segment("chat").slash("completions"),
                        () -> post(() -> generate(ApiRequest.Kind.CHAT))),
                    path("models", () -> get(this::models)))));
  }

  /** Lets the request through when no key is configured or it carries the key. */
  private Route authorized(boolean queryKeyAllowed, Supplier<Route> inner) {
    Optional<String> key = settings.requiredApiKey();
    if (key.isEmpty()) {
      return inner.get();
    }
    return optionalHeaderValueByName(
        "Authorization",
        header ->
            parameterOptional(
                "api_key",
                query -> {
                  boolean granted =
                      header.map(h -> same(h, "Bearer " + key.get())).orElse(false)
                          || (queryKeyAllowed && query.map(q -> same(q, key.get())).orElse(false));
                  return granted ? inner.get() : complete(unauthorized());
                }));
  }

  private static boolean same(String given, String expected) {
    // constant time, so the key cannot be guessed byte by byte from response times
    return MessageDigest.isEqual(
        given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
  }

  private static HttpResponse unauthorized() {
    ApiError error =
        new ApiError(
            StatusCodes.UNAUTHORIZED,
            "invalid_request_error",
            "missing or wrong API key: send the header Authorization: Bearer <key>",
            null,
            "invalid_api_key");
    return Json.response(error.status(), OpenAiResponses.error(error))
        .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", "specd")));
  }

  /** A completion or chat completion: read the body, then answer whole or as events. */
  private Route generate(ApiRequest.Kind kind) {
    // A whole response may take as long as the engine lets a request run.
    return withRequestTimeout(
        DurationConverters.toScala(engine.requestTimeout().plusSeconds(5)),
        request ->
            Errors.response(
                new ApiError(
                    StatusCodes.SERVICE_UNAVAILABLE,
                    "server_error",
                    "the request timed out after " + engine.requestTimeout(),
                    null,
                    "request_timeout")),
        () ->
            attribute(
                ConnectionScope.KEY, connection -> jsonBody(() -> generate(kind, connection))));
  }

  /**
   * Reads the body (within the body timeout), checks it off the HTTP threads, then runs the request
   * for its connection.
   */
  private Route generate(ApiRequest.Kind kind, ConnectionScope connection) {
    RequestLimits limits = settings.limits();
    return toStrictEntity(
        DurationConverters.toScala(limits.bodyTimeout()),
        limits.bodyBytes(),
        () -> generateFromBody(kind, connection));
  }

  private Route generateFromBody(ApiRequest.Kind kind, ConnectionScope connection) {
    return entity(
        Unmarshaller.entityToString(),
        body ->
            onSuccess(
                read(RequestReader.parse(body), kind, connection::isClosed),
                request ->
                    completeWithFuture(
                        completions.answer(
                            request, prepared -> events(prepared, connection::track)))));
  }

  /**
   * Requires a JSON body within the size limit. A declared length over the limit gets 413 before a
   * byte of the body is read (reading would fail the body's stream, and Akka HTTP then often resets
   * the connection before the 413 is read). A browser may send {@code text/plain} to any site
   * without asking (no CORS preflight), so a body of any other type is refused with 415.
   */
  private Route jsonBody(Supplier<Route> inner) {
    return extractRequestEntity(
        entity ->
            entity.getContentLengthOption().orElse(0) > settings.limits().bodyBytes()
                ? complete(Errors.response(ApiError.payloadTooLarge()))
                : entity.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)
                    ? inner.get()
                    : complete(
                        Errors.response(
                            new ApiError(
                                StatusCodes.UNSUPPORTED_MEDIA_TYPE,
                                "invalid_request_error",
                                "send the request body as Content-Type: application/json",
                                null,
                                "unsupported_media_type"))));
  }

  /** Checks and tokenizes a WebSocket request (the socket is its own connection). */
  private CompletionStage<ApiRequest> read(JsonNode root, ApiRequest.Kind kind) {
    return read(root, kind, () -> false);
  }

  /**
   * Checks and tokenizes a parsed request on the reading dispatcher, off the HTTP threads: at most
   * {@code specd.http.limits.pending-reads} at once (429 beyond), and skipped when its client went
   * away while it waited.
   */
  private CompletionStage<ApiRequest> read(
      JsonNode root, ApiRequest.Kind kind, BooleanSupplier clientGone) {
    if (!pendingReads.tryAcquire()) {
      return CompletableFuture.failedFuture(
          new ApiError(
              StatusCodes.TOO_MANY_REQUESTS,
              "rate_limit_exceeded",
              "too many requests are being read (specd.http.limits.pending-reads)",
              null,
              "rate_limit_exceeded"));
    }
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            if (clientGone.getAsBoolean()) {
              throw ApiError.cancelled();
            }
            return reader.read(root, kind);
          } finally {
            pendingReads.release();
          }
        },
        reading);
  }

  /**
   * A WebSocket request's events (the socket's stream cancels them when it closes): one generation
   * per request.
   */
  private Source<TokenEvent, NotUsed> events(ApiRequest request) {
    if (request.choices().size() > 1) {
      return Source.failed(
          ApiError.invalid(
              "n",
              "unsupported_value",
              "the WebSocket runs one generation per request: one prompt, n = 1"));
    }
    return events(request.choices().get(0).prepared(), control -> {});
  }

  /**
   * A generation's events, tracked while they run so that shutdown can wait for them.
   *
   * @param owner also tracks them (the request's connection)
   */
  private Source<TokenEvent, NotUsed> events(
      PreparedRequest prepared, Consumer<SpecDecoding.Control> owner) {
    return SpecDecoding.source(engine, prepared)
        .mapMaterializedValue(
            control -> {
              inFlight.track(control);
              owner.accept(control);
              return NotUsed.getInstance();
            });
  }

  /**
   * Completes when the generations running now have ended (responses streamed to the end), or after
   * the deadline.
   */
  public CompletionStage<Done> drained(Duration deadline) {
    return inFlight.drained(deadline);
  }

  private Route models() {
    ObjectNode root = Json.object().put("object", "list");
    root.putArray("data")
        .addObject()
        .put("id", modelId)
        .put("object", "model")
        .put("created", created)
        .put("owned_by", "specd");
    return complete(Json.response(StatusCodes.OK, root));
  }

  /**
   * {@code /health}: with {@code specd.http.protect-metrics} and an API key, the details (model,
   * drafter, policy, context, the reason of a failure) only for requests that carry the key.
   */
  private Route healthRoute() {
    Optional<String> key = settings.requiredApiKey();
    if (!settings.protectMetrics() || key.isEmpty()) {
      return health(true);
    }
    return optionalHeaderValueByName(
        "Authorization",
        header -> health(header.map(h -> same(h, "Bearer " + key.get())).orElse(false)));
  }

  /** 200 {@code "ok"} while the engine can serve; 503 {@code "unavailable"} (with the reason). */
  private Route health(boolean detail) {
    Optional<String> problem = engine.health().problem();
    ObjectNode root =
        Json.object()
            .put("status", problem.isEmpty() ? "ok" : "unavailable")
            .put("chat_template", chatTemplate.isModelTemplate())
            .put("api_key_required", settings.requiredApiKey().isPresent());
    if (detail) {
      root.put("model", modelId)
          .put("drafter", engine.drafterName())
          .put("policy", engine.defaultPolicy())
          .put("context_length", engine.contextLength());
      problem.ifPresent(reason -> root.put("reason", reason));
    }
    return complete(
        Json.response(problem.isEmpty() ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, root));
  }

  /** {@code /metrics}, behind the API key with {@code specd.http.protect-metrics}. */
  private Route metricsRoute() {
    return settings.protectMetrics() ? authorized(false, this::metrics) : metrics();
  }

  private Route metrics() {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    try {
      metricsWriter.write(text, engine.metrics().registry().scrape());
      metricsWriter.write(text, JvmMetricsRegistry.get().scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array stream does not fail
    }
    return complete(
        HttpResponse.create().withEntity(HttpEntities.create(METRICS_TYPE, text.toByteArray())));
  }
}
