package io.specd.streams.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Admission (429) and the API key (401, also on {@code /metrics}, and {@code /health}'s details,
 * with {@code protect-metrics}), on a server with one session and no queue.
 */
class HttpAdmissionTest {
  private static final String KEY = "Bearer secret";
  private static TestServer server;

  @BeforeAll
  static void startServer() {
    server =
        TestServer.start(
            """
            specd.gpu.kv-slots = 1
            specd.session.max-sessions = 1
            specd.session.admission-queue = 0
            specd.http.api-key = "secret"
            specd.http.protect-metrics = on
            """,
            false);
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldRefuseWith429WhileTheOnlySessionIsBusy() throws Exception {
    int maxTokens = server.engine.contextLength() - 16;
    HttpRequest longStream =
        server
            .postRequest(
                "/v1/completions",
                "{\"prompt\": \"Once upon a time\", \"temperature\": 0, \"stream\": true,"
                    + " \"max_tokens\": "
                    + maxTokens
                    + "}")
            .header("Authorization", KEY)
            .build();
    HttpResponse<InputStream> held =
        server.client.send(longStream, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(held.statusCode()).isEqualTo(200);
    try (BufferedReader events =
        new BufferedReader(new InputStreamReader(held.body(), StandardCharsets.UTF_8))) {
      assertThat(events.readLine()).startsWith("data:"); // the session is decoding; read no more

      HttpResponse<String> refused =
          server.client.send(
              server
                  .postRequest("/v1/completions", "{\"prompt\": \"Hello\", \"max_tokens\": 4}")
                  .header("Authorization", KEY)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("Retry-After")).contains("1");
      JsonNode error = TestServer.json(refused).path("error");
      assertThat(error.path("type").asText()).isEqualTo("rate_limit_exceeded");
      assertThat(error.path("message").asText()).contains("capacity");
    }
  }

  @ParameterizedTest(name = "stream: {0}")
  @ValueSource(booleans = {false, true})
  void shouldRefuseAllChoicesWhenOneDoesNotFitAndFreeTheOneThatStarted(boolean stream)
      throws Exception {
    HttpResponse<String> refused =
        server.client.send(
            server
                .postRequest(
                    "/v1/completions",
                    "{\"prompt\": \"Once upon a time\", \"n\": 2, \"stream\": "
                        + stream
                        + ", \"max_tokens\": "
                        + (server.engine.contextLength() - 16)
                        + "}")
                .header("Authorization", KEY)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(429);
    HttpRequest next =
        server
            .postRequest("/v1/completions", "{\"prompt\": \"Hello\", \"max_tokens\": 4}")
            .header("Authorization", KEY)
            .build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    int status;
    do {
      status = server.client.send(next, HttpResponse.BodyHandlers.discarding()).statusCode();
    } while (status == 429 && System.nanoTime() < deadline);
    assertThat(status).as("the session is free again").isEqualTo(200);
  }

  @Test
  void shouldRequireTheApiKeyOnV1() throws Exception {
    HttpResponse<String> missing = server.get("/v1/models");
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(missing.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("Bearer");
    assertThat(TestServer.json(missing).path("error").path("code").asText())
        .isEqualTo("invalid_api_key");

    HttpResponse<String> wrong =
        server.client.send(
            HttpRequest.newBuilder(server.uri("/v1/completions"))
                .header("Authorization", "Bearer guess")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"x\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(wrong.statusCode()).isEqualTo(401);

    HttpResponse<String> granted =
        server.client.send(
            HttpRequest.newBuilder(server.uri("/v1/models")).header("Authorization", KEY).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(granted.statusCode()).isEqualTo(200);

    HttpResponse<String> health = server.get("/health");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(TestServer.json(health).has("model")).as("details without the key").isFalse();
    HttpResponse<String> detailed =
        server.client.send(
            HttpRequest.newBuilder(server.uri("/health")).header("Authorization", KEY).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(TestServer.json(detailed).path("model").asText()).isEqualTo("stories260K.gguf");
    assertThat(server.get("/metrics").statusCode()).isEqualTo(401);
    HttpResponse<String> metrics =
        server.client.send(
            HttpRequest.newBuilder(server.uri("/metrics")).header("Authorization", KEY).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
  }
}
