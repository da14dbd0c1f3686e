package io.specd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A device failure while requests stream: they end with an error event; the next one works. */
class DeviceFaultTest {
  private static LoopbackServer server;

  @BeforeAll
  static void startServer() {
    server =
        LoopbackServer.start(
            """
            specd.gpu.kv-slots = 20
            specd.session.max-sessions = 20
            specd.gpu.fault-injection = on
            """);
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldFailTheStreamsInFlightAndServeTheNextRequest() throws Exception {
    String body =
        "{\"prompt\": \"Once upon a time\", \"temperature\": 0, \"stream\": true, \"max_tokens\": "
            + (server.engine.contextLength() - 16)
            + "}";
    List<HttpResponse<Stream<String>>> inFlight = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      // headers arrive with the first decoded token: each request is decoding when this returns
      inFlight.add(
          server
              .client
              .sendAsync(server.post("/v1/completions", body), HttpResponse.BodyHandlers.ofLines())
              .get(30, TimeUnit.SECONDS));
    }
    server.engine.injectDeviceFault("injected");

    for (HttpResponse<Stream<String>> response : inFlight) {
      assertThat(response.statusCode()).isEqualTo(200);
      List<String> events;
      try (Stream<String> lines = response.body()) {
        events = LoopbackServer.events(lines);
      }
      assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
      JsonNode error = LoopbackServer.text(events).error();
      assertThat(error).as("an error event").isNotNull();
      assertThat(error.path("message").asText()).contains("injected");
      assertThat(error.path("code").asText()).isEqualTo("generation_failed");
    }

    HttpResponse<String> next =
        server.client.send(
            server.post(
                "/v1/completions",
                "{\"prompt\": \"Once upon a time\", \"max_tokens\": 16, \"temperature\": 0}"),
            HttpResponse.BodyHandlers.ofString());
    assertThat(next.statusCode()).isEqualTo(200);
    JsonNode completion = LoopbackServer.JSON.readTree(next.body());
    assertThat(completion.path("usage").path("completion_tokens").asInt()).isEqualTo(16);
  }
}
