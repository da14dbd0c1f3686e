package io.specd.streams.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The API over the bundled Clover heads: speculation shows in the usage, output is lossless. */
class CloverHttpTest {
  private static TestServer server;

  @BeforeAll
  static void startServer() {
    server = TestServer.start("specd.gpu.kv-slots = 4\nspecd.session.max-sessions = 4", true);
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldReportSpeculationAndMatchPlainGreedyOutput() throws Exception {
    String request = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 32, \"temperature\": 0%s}";
    JsonNode speculative =
        TestServer.json(
            server.post("/v1/completions", request.formatted(", \"policy\": \"static-3\"")));
    JsonNode plain =
        TestServer.json(
            server.post("/v1/completions", request.formatted(", \"policy\": \"none\"")));

    assertThat(speculative.path("choices").get(0).path("text").asText())
        .isEqualTo(plain.path("choices").get(0).path("text").asText());
    JsonNode stats = speculative.path("usage").path("speculative");
    assertThat(stats.path("drafter").asText()).isEqualTo("clover");
    assertThat(stats.path("policy").asText()).isEqualTo("static-3");
    assertThat(stats.path("drafted_tokens").asLong()).isPositive();
    assertThat(stats.path("mean_accepted").asDouble()).isGreaterThan(1.0);
    assertThat(stats.path("steps").asInt()).isLessThan(31);
    assertThat(stats.path("acceptance_per_depth").size()).isPositive();
    assertThat(plain.path("usage").path("speculative").path("policy").asText()).isEqualTo("none");
    assertThat(plain.path("usage").path("speculative").path("drafted_tokens").asLong()).isZero();
  }

  @Test
  void shouldTellInEachStreamedChunkHowItsTokensWereProduced() throws Exception {
    String request =
        "{\"prompt\": \"Once upon a time\", \"max_tokens\": 48, \"temperature\": 0,"
            + " \"stream\": true}";
    List<String> lines =
        server
            .client
            .send(
                server.postRequest("/v1/completions", request).build(),
                HttpResponse.BodyHandlers.ofLines())
            .body()
            .filter(line -> line.startsWith("data: {"))
            .toList();
    StringBuilder text = new StringBuilder();
    StringBuilder spans = new StringBuilder();
    int drafted = 0;
    for (String line : lines) {
      JsonNode chunk = TestServer.JSON.readTree(line.substring(6));
      if (chunk.path("choices").size() == 0 || !chunk.has("speculative")) {
        continue;
      }
      text.append(chunk.path("choices").get(0).path("text").asText());
      chunk.path("speculative").path("spans").forEach(s -> spans.append(s.path("text").asText()));
      for (JsonNode token : chunk.path("speculative").path("tokens")) {
        drafted += token.path("depth").asInt() > 0 ? 1 : 0;
      }
    }
    assertThat(text).isNotEmpty();
    assertThat(spans.toString()).isEqualTo(text.toString());
    assertThat(drafted).isPositive();
  }
}
