package io.specd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A device that cannot restart: the engine says so and refuses work at once. */
class DeviceDeathTest {
  private static LoopbackServer server;

  @BeforeAll
  static void startServer() {
    server =
        LoopbackServer.start(
            """
            specd.gpu.fault-injection = on
            specd.gpu.restart.max-restarts = 0
            """);
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldTurnHealthTo503AndRefuseRequestsOnceTheDeviceIsDown() throws Exception {
    String body =
        "{\"prompt\": \"Once upon a time\", \"temperature\": 0, \"stream\": true, \"max_tokens\": "
            + (server.engine.contextLength() - 16)
            + "}";
    HttpResponse<Stream<String>> running =
        server
            .client
            .sendAsync(server.post("/v1/completions", body), HttpResponse.BodyHandlers.ofLines())
            .get(30, TimeUnit.SECONDS);
    server.engine.injectDeviceFault("injected");
    try (Stream<String> lines = running.body()) {
      assertThat(LoopbackServer.text(LoopbackServer.events(lines)).error()).isNotNull();
    }

    // the failed batch answers its sessions before the guardian learns the device is gone
    await()
        .atMost(Duration.ofSeconds(5))
        .ignoreExceptions()
        .until(() -> health().statusCode() != 200);
    HttpResponse<String> health = health();
    HttpResponse<String> refused =
        server.client.send(
            server.post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 4}"),
            HttpResponse.BodyHandlers.ofString());

    assertThat(health.statusCode()).isEqualTo(503);
    JsonNode status = LoopbackServer.JSON.readTree(health.body());
    assertThat(status.path("status").asText()).isEqualTo("unavailable");
    assertThat(status.path("reason").asText()).contains("injected");
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(LoopbackServer.JSON.readTree(refused.body()).path("error").path("code").asText())
        .isEqualTo("engine_unavailable");
  }

  private static HttpResponse<String> health() throws Exception {
    return server.client.send(
        HttpRequest.newBuilder(server.uri("/health")).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
