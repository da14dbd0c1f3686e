package io.specd.streams.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Stopping the server lets a stream in flight finish, and refuses new connections meanwhile. */
class ShutdownDrainTest {
  private static TestServer server;

  @BeforeAll
  static void startServer() {
    server = TestServer.start("specd.gpu.kv-slots = 2\nspecd.session.max-sessions = 2", false);
  }

  @AfterAll
  static void stopEngine() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldLetAStreamInFlightFinishWhenStopping() throws Exception {
    int maxTokens = 600;
    HttpResponse<InputStream> response =
        server.client.send(
            server
                .postRequest(
                    "/v1/completions",
                    "{\"prompt\": \"Once upon a time\", \"temperature\": 0, \"stream\": true,"
                        + " \"stream_options\": {\"include_usage\": true},"
                        + " \"max_tokens\": "
                        + maxTokens
                        + "}")
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
    try (BufferedReader events =
        new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      assertThat(events.readLine()).startsWith("data: ");
      CompletionStage<?> stopped = server.server.stop();

      // unbinding is asynchronous: new connections are refused a moment later
      await().atMost(Duration.ofSeconds(10)).until(ShutdownDrainTest::refusesNewConnections);
      String last = null;
      String usage = null;
      for (String line = events.readLine(); line != null; line = events.readLine()) {
        if (line.startsWith("data: ")) {
          usage = last;
          last = line.substring("data: ".length());
        }
      }
      assertThat(last).isEqualTo("[DONE]");
      JsonNode usageChunk = TestServer.JSON.readTree(usage);
      assertThat(usageChunk.path("usage").path("completion_tokens").asInt()).isEqualTo(maxTokens);
      stopped.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** Whether a new connection to the server is refused. */
  private static boolean refusesNewConnections() {
    try (Socket probe = new Socket("127.0.0.1", server.server.port())) {
      return false;
    } catch (IOException refused) {
      return true;
    }
  }
}
