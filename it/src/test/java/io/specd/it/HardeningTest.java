package io.specd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Clients that try to break, stall or hijack the server, against the real server on loopback: each
 * test is one attack of issue 12 and shows that the innocent requests around it are served.
 */
class HardeningTest {
  private static final String GREEDY =
      "{\"prompt\": \"Once upon a time\", \"temperature\": 0, \"max_tokens\": 48";
  private static LoopbackServer server;

  @BeforeAll
  static void startServer() {
    server =
        LoopbackServer.start(
            """
            specd.gpu.kv-slots = 20
            specd.session.max-sessions = 20
            specd.http.limits.body-bytes = 4m
            """);
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldRefuseAnOverflowingMaxTokensAndFinishTheInnocentStreams() throws Exception {
    String alone =
        streamedText(server.client.send(streamed(), HttpResponse.BodyHandlers.ofLines()));
    List<CompletableFuture<HttpResponse<Stream<String>>>> innocent = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      innocent.add(server.client.sendAsync(streamed(), HttpResponse.BodyHandlers.ofLines()));
    }

    HttpResponse<String> overflow =
        server.client.send(
            server.post(
                "/v1/completions",
                "{\"prompt\": \"Once upon a time\", \"max_tokens\": 2147483647, \"stream\": true}"),
            HttpResponse.BodyHandlers.ofString());

    assertThat(overflow.statusCode()).isEqualTo(400);
    assertThat(error(overflow).path("code").asText()).isEqualTo("context_length_exceeded");
    for (CompletableFuture<HttpResponse<Stream<String>>> stream : innocent) {
      assertThat(streamedText(stream.get(60, TimeUnit.SECONDS))).isEqualTo(alone);
    }
  }

  @Test
  void shouldServeASmallRequestWhileHugePromptsArriveAndRefuseThemWithoutTokenizing()
      throws Exception {
    byte[] request =
        RawHttp.post(
                "/v1/completions",
                "{\"prompt\": \"" + "Once upon a time ".repeat(2 * 1024 * 1024 / 17) + "\"}",
                "Connection: close",
                "Content-Type: application/json")
            .getBytes(StandardCharsets.UTF_8);
    List<Socket> huge = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      huge.add(RawHttp.send(server, request, request.length / 2));
    }

    // the huge prompts are half sent: the small request is answered before any of them
    HttpResponse<String> small =
        server.client.send(
            server.post("/v1/completions", GREEDY + "}"), HttpResponse.BodyHandlers.ofString());
    assertThat(small.statusCode()).isEqualTo(200);

    for (Socket socket : huge) {
      try (socket) {
        socket
            .getOutputStream()
            .write(request, request.length / 2, request.length - request.length / 2);
        assertThat(RawHttp.response(socket))
            .startsWith("HTTP/1.1 400 Bad Request")
            .contains("prompt_too_large");
      }
    }
  }

  @Test
  void shouldRefuseAWebSocketMessageOverTheLimitAndServeTheNextOne() throws Exception {
    BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    WebSocket socket = WebSocketFrames.connect(server, frames);
    String chunk = "x".repeat(1024 * 1024);
    for (int i = 0; i < 5; i++) { // 5 MiB over a 4 MiB limit, in fragments
      socket.sendText(i == 0 ? "{\"prompt\": \"" + chunk : chunk, false).get(10, TimeUnit.SECONDS);
    }
    socket.sendText("\"}", true).get(10, TimeUnit.SECONDS);
    JsonNode refused = frames.poll(30, TimeUnit.SECONDS);
    assertThat(refused.path("code").asText()).isEqualTo("payload_too_large");

    socket.sendText(GREEDY + "}", true).get(10, TimeUnit.SECONDS);
    JsonNode first = frames.poll(30, TimeUnit.SECONDS);
    assertThat(first.path("type").asText()).isEqualTo("token");
    socket.abort();
  }

  @Test
  void shouldCancelWholeRequestsWhoseClientsHungUp() throws Exception {
    double tokensBefore = server.metric("specd_tokens_total");
    int maxTokens = server.engine.contextLength() - 16;
    List<Socket> clients = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      clients.add(
          RawHttp.send(
              server,
              RawHttp.post(
                  "/v1/completions",
                  "{\"prompt\": \"Once upon a time\", \"max_tokens\": " + maxTokens + "}",
                  "Content-Type: application/json")));
    }
    server.awaitMetric("specd_live_sessions", 16);
    for (Socket client : clients) {
      client.close();
    }

    server.awaitMetric("specd_live_sessions", 0);
    assertThat(server.metric("specd_tokens_total") - tokensBefore)
        .as("tokens generated for clients that had gone")
        .isLessThan(16.0 * maxTokens / 2);
  }

  @Test
  void shouldTakeRequestsWhoseClientsHungUpOutOfTheAdmissionQueue() throws Exception {
    try (LoopbackServer small =
        LoopbackServer.start("specd.session.max-sessions = 1\nspecd.session.admission-queue = 4")) {
      // as long as the context allows, and never read: the session outlives the queue's clients
      // (400 tokens took ~50 ms once the device warmed its JIT up before the first request)
      String slow =
          "{\"prompt\": \"Once upon a time\", \"max_tokens\": "
              + (small.engine.contextLength() - 16)
              + ", \"stream\": true}";
      HttpResponse<Stream<String>> running =
          small.client.send(
              small.post("/v1/completions", slow), HttpResponse.BodyHandlers.ofLines());
      List<Socket> queued = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        queued.add(
            RawHttp.send(
                small, RawHttp.post("/v1/completions", slow, "Content-Type: application/json")));
      }
      small.awaitMetric("specd_waiting_requests", 4);
      for (Socket client : queued) {
        client.close();
      }
      small.awaitMetric("specd_waiting_requests", 0);
      assertThat(small.metric("specd_live_sessions")).isEqualTo(1);
      running.body().close();
    }
  }

  @Test
  void shouldCloseHalfSentRequestsSoThatNormalOnesAreServed() throws Exception {
    try (LoopbackServer small =
        LoopbackServer.start(
            """
            specd.http.max-connections = 100
            specd.http.header-timeout = 1s
            specd.http.limits.body-timeout = 1s
            """)) {
      List<Socket> slow = new ArrayList<>();
      String half = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applic";
      for (int i = 0; i < 100; i++) { // every connection the server takes
        slow.add(RawHttp.send(small, half));
      }

      HttpResponse<String> normal =
          small.client.send(
              small.post("/v1/completions", GREEDY + "}"), HttpResponse.BodyHandlers.ofString());

      assertThat(normal.statusCode()).isEqualTo(200);
      for (Socket socket : slow) {
        try (socket) {
          assertThat(RawHttp.response(socket)).as("closed without a response").isEmpty();
        }
      }

      // a whole head, then a trickle of body: closed at the body timeout, well before the
      // client's 10 s read timeout (Akka HTTP mostly resets it before the 408 is read)
      String trickle =
          "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              + "Content-Length: 100\r\n\r\n{\"prompt\": ";
      String answer;
      try (Socket socket = RawHttp.send(small, trickle)) {
        answer = RawHttp.firstResponse(socket);
      } catch (SocketException reset) {
        answer = "reset";
      }
      assertThat(answer).matches("reset|HTTP/1.1 408 (?s).*body_timeout.*");
    }
  }

  @Test
  void shouldRefuseForeignOriginsAndHostsAndPlainTextBodies() throws Exception {
    String body = GREEDY + "}";
    assertThat(
            exchange(RawHttp.post("/v1/completions", body, json(), "Origin: http://evil.example")))
        .startsWith("HTTP/1.1 403")
        .contains("origin_not_allowed");
    assertThat(exchange(webSocketHandshake("Origin: http://evil.example")))
        .startsWith("HTTP/1.1 403")
        .contains("origin_not_allowed");
    assertThat(exchange(withHost(RawHttp.post("/v1/completions", body, json()), "evil.example")))
        .startsWith("HTTP/1.1 403")
        .contains("host_not_allowed");
    assertThat(exchange(RawHttp.post("/v1/completions", body, "Content-Type: text/plain")))
        .startsWith("HTTP/1.1 415")
        .contains("unsupported_media_type");

    // the server's own page, as a browser sends it
    String self = "127.0.0.1:" + server.server.port();
    String own = "Origin: http://" + self;
    assertThat(exchange(withHost(RawHttp.post("/v1/completions", body, json(), own), self)))
        .startsWith("HTTP/1.1 200");
    assertThat(exchange(withHost(webSocketHandshake(own), self))).startsWith("HTTP/1.1 101");
  }

  private static String withHost(String request, String host) {
    return request.replaceFirst("Host: 127.0.0.1", "Host: " + host);
  }

  @Test
  void shouldEndAStreamStillRunningAtTheShutdownDeadlineWithAnErrorEvent() throws Exception {
    try (LoopbackServer closing = LoopbackServer.start("specd.http.shutdown-deadline = 200ms");
        Socket socket = new Socket()) {
      socket.setReceiveBufferSize(4096); // a slow reader: its session pauses, never finishes
      socket.connect(closing.server.address());
      String body =
          "{\"prompt\": \"Once upon a time\", \"stream\": true, \"max_tokens\": "
              + (closing.engine.contextLength() - 16)
              + "}";
      socket
          .getOutputStream()
          .write(RawHttp.post("/v1/completions", body, json()).getBytes(StandardCharsets.UTF_8));
      socket.getInputStream().read(new byte[256]); // the stream has started

      closing.server.stop();

      String rest = RawHttp.response(socket);
      assertThat(rest).containsSubsequence("server_shutting_down", "data: [DONE]");
      assertThat(rest.strip()).endsWith("\r\n0"); // the last chunk: closed cleanly, not reset
    }
  }

  @Test
  void shouldRefuseConnectionsBeyondTheCapOfOneClientAddress() throws Exception {
    String health = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    try (LoopbackServer capped =
            LoopbackServer.start("specd.http.max-connections-per-address = 2");
        Socket first = RawHttp.send(capped, health);
        Socket second = RawHttp.send(capped, health)) {
      assertThat(RawHttp.firstResponse(first)).startsWith("HTTP/1.1 200");
      assertThat(RawHttp.firstResponse(second)).startsWith("HTTP/1.1 200");

      try (Socket third = RawHttp.send(capped, health)) {
        String refused = RawHttp.response(third); // the whole answer, then the server closes
        assertThat(refused)
            .startsWith("HTTP/1.1 429")
            .contains("Retry-After: 1")
            .contains("too_many_connections");
      }
      first.close();
      // the server sees the close a moment later: then a new connection has a place again
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      String answer;
      do {
        answer = RawHttp.exchange(capped, health);
      } while (!answer.startsWith("HTTP/1.1 200") && System.nanoTime() < deadline);
      assertThat(answer).as("a place freed by a closed connection").startsWith("HTTP/1.1 200");
    }
  }

  @Test
  void shouldRefuseReadsBeyondThePendingLimitWith429() throws Exception {
    try (LoopbackServer small =
        LoopbackServer.start(
            """
            specd.http.limits.pending-reads = 1
            specd.http.tokenizer-dispatcher.thread-pool-executor.fixed-pool-size = 1
            """)) {
      // prompts small enough to be tokenized (tens of milliseconds each), too long for the context
      String body = "{\"prompt\": \"" + "Once upon a time ".repeat(3000) + "\", \"max_tokens\": 4}";
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        answers.add(
            small.client.sendAsync(
                small.post("/v1/completions", body), HttpResponse.BodyHandlers.ofString()));
      }
      Map<Integer, Long> byStatus =
          answers.stream()
              .map(CompletableFuture::join)
              .collect(Collectors.groupingBy(HttpResponse::statusCode, Collectors.counting()));
      assertThat(byStatus.keySet()).as("statuses").containsOnly(400, 429);
      assertThat(byStatus.get(429)).as("refused while another was read").isPositive();
      HttpResponse<String> refused =
          answers.stream()
              .map(CompletableFuture::join)
              .filter(r -> r.statusCode() == 429)
              .findFirst()
              .orElseThrow();
      assertThat(refused.headers().firstValue("Retry-After")).contains("1");
      assertThat(refused.body()).contains("specd.http.limits.pending-reads");
    }
  }

  private static String json() {
    return "Content-Type: application/json";
  }

  private static String webSocketHandshake(String origin) {
    return "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + origin
        + "\r\n\r\n";
  }

  private static String exchange(String request) throws Exception {
    return RawHttp.exchange(server, request);
  }

  private static HttpRequest streamed() {
    return server.post("/v1/completions", GREEDY + ", \"stream\": true}");
  }

  /** A streamed completion's text; fails the test on an error event. */
  private static String streamedText(HttpResponse<Stream<String>> response) throws Exception {
    assertThat(response.statusCode()).isEqualTo(200);
    LoopbackServer.StreamedText text;
    try (Stream<String> lines = response.body()) {
      text = LoopbackServer.text(LoopbackServer.events(lines));
    }
    assertThat(text.error()).as("an error event").isNull();
    return text.text();
  }

  private static JsonNode error(HttpResponse<String> response) throws Exception {
    return LoopbackServer.JSON.readTree(response.body()).path("error");
  }
}
