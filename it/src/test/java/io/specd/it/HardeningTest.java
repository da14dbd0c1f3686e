package io.specd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
    server = LoopbackServer.start("specd.gpu.kv-slots = 20\nspecd.session.max-sessions = 20");
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
