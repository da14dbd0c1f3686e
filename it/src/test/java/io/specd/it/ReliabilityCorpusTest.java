package io.specd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The reliability corpus: every bad input in {@code corpus/raw.tsv} (raw HTTP) and {@code
 * corpus/bodies.tsv} (request bodies, sent both as HTTP POSTs and as WebSocket messages) gets the
 * expected status and JSON error code; afterwards the server is healthy and greedy output is what
 * it was before.
 */
class ReliabilityCorpusTest {
  private static final String GREEDY =
      "{\"prompt\": \"Once upon a time\", \"temperature\": 0, \"max_tokens\": 32}";
  private static final Pattern REPEAT = Pattern.compile("\\{\\{(.+?)\\*(\\d+)}}");
  private static final Pattern ESCAPE = Pattern.compile("\\\\(r|n|u[0-9a-fA-F]{4})");

  private static LoopbackServer server;
  private static String greedyBefore;
  private static WebSocket socket;
  private static final BlockingQueue<JsonNode> FRAMES = new LinkedBlockingQueue<>();

  @BeforeAll
  static void startServer() throws Exception {
    server = LoopbackServer.start("specd.http.cors-origins = [\"https://app.example\"]");
    greedyBefore = greedy();
    socket = WebSocketFrames.connect(server, FRAMES);
  }

  @AfterAll
  static void stopServer() {
    if (socket != null) {
      socket.abort();
    }
    if (server != null) {
      server.close();
    }
  }

  @TestFactory
  Stream<DynamicTest> corpus() {
    Stream<DynamicTest> raw =
        cases("corpus/raw.tsv")
            .map(c -> dynamicTest("raw " + c.get(0), () -> raw(c.get(1), c.get(2), c.get(3))));
    List<List<String>> bodies = cases("corpus/bodies.tsv").toList();
    Stream<DynamicTest> posts =
        bodies.stream()
            .map(c -> dynamicTest("post " + c.get(0), () -> post(c.get(1), c.get(2), c.get(3))));
    Stream<DynamicTest> messages =
        bodies.stream()
            .map(c -> dynamicTest("websocket " + c.get(0), () -> message(c.get(2), c.get(3))));
    DynamicTest after =
        dynamicTest(
            "after the corpus: healthy, greedy output unchanged",
            () -> {
              assertThat(server.client.send(get("/health"), ofString()).statusCode())
                  .isEqualTo(200);
              assertThat(greedy()).isEqualTo(greedyBefore);
              server.awaitMetric("specd_live_sessions", 0);
            });
    return Stream.of(raw, posts, messages, Stream.of(after)).flatMap(s -> s);
  }

  private static void raw(String status, String code, String request) throws IOException {
    if (status.equals("closed")) {
      assertThat(RawHttp.closedWithoutResponse(server, expand(request))).isTrue();
      return;
    }
    String response = RawHttp.exchange(server, expand(request));
    assertThat(response).as("a response").startsWith("HTTP/1.1 " + status);
    if (!code.equals("-")) {
      assertThat(errorCode(response.substring(response.indexOf("\r\n\r\n") + 4))).isEqualTo(code);
    }
  }

  private static void post(String endpoint, String code, String body) throws Exception {
    String path = endpoint.equals("chat") ? "/v1/chat/completions" : "/v1/completions";
    HttpResponse<String> response = server.client.send(server.post(path, expand(body)), ofString());
    // OpenAI answers an unknown model with 404, every other bad body with 400
    assertThat(response.statusCode()).isEqualTo(code.equals("model_not_found") ? 404 : 400);
    assertThat(errorCode(response.body())).isEqualTo(code);
  }

  /**
   * Over the WebSocket a chat is told from a completion by its {@code messages} field. The answer's
   * frames are read to its last (an error, or a done when the server wrongly generated).
   */
  private static void message(String code, String body) throws Exception {
    socket.sendText(expand(body), true).get(10, TimeUnit.SECONDS);
    JsonNode frame = FRAMES.poll(30, TimeUnit.SECONDS);
    while (frame != null && frame.path("type").asText().equals("token")) {
      frame = FRAMES.poll(30, TimeUnit.SECONDS);
    }
    assertThat(frame).as("a last frame").isNotNull();
    assertThat(frame.path("type").asText()).isEqualTo("error");
    assertThat(frame.path("code").asText()).isEqualTo(code);
  }

  private static String greedy() throws Exception {
    HttpResponse<String> response =
        server.client.send(server.post("/v1/completions", GREEDY), ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return LoopbackServer.JSON
        .readTree(response.body())
        .path("choices")
        .get(0)
        .path("text")
        .asText();
  }

  private static String errorCode(String body) throws IOException {
    JsonNode error = LoopbackServer.JSON.readTree(body).path("error");
    assertThat(error.path("message").asText()).as("an error message").isNotBlank();
    return error.path("code").asText();
  }

  /** A corpus file's cases: tab-separated fields, {@code #} lines are comments. */
  private static Stream<List<String>> cases(String resource) {
    InputStream in = ReliabilityCorpusTest.class.getClassLoader().getResourceAsStream(resource);
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      return lines
          .lines()
          .filter(line -> !line.isBlank() && !line.startsWith("#"))
          .map(line -> List.of(line.split("\t", -1)))
          .toList()
          .stream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Expands {@code {{text*N}}} and the escapes backslash-r, backslash-n and backslash-uXXXX. */
  private static String expand(String text) {
    String repeated = REPEAT.matcher(text).replaceAll(m -> Matcher.quoteReplacement(repeat(m)));
    return ESCAPE
        .matcher(repeated)
        .replaceAll(
            m ->
                Matcher.quoteReplacement(
                    switch (m.group(1).charAt(0)) {
                      case 'r' -> "\r";
                      case 'n' -> "\n";
                      default ->
                          String.valueOf((char) Integer.parseInt(m.group(1).substring(1), 16));
                    }));
  }

  private static String repeat(MatchResult m) {
    return m.group(1).repeat(Integer.parseInt(m.group(2)));
  }

  private static HttpRequest get(String path) {
    return HttpRequest.newBuilder(server.uri(path)).build();
  }

  private static HttpResponse.BodyHandler<String> ofString() {
    return HttpResponse.BodyHandlers.ofString();
  }
}
