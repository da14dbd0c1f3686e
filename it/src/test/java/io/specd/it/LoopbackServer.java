package io.specd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.specd.gpu.Backends;
import io.specd.kernels.llama.Backend;
import io.specd.streams.http.LoopbackHarness;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * stories260K with the bundled Clover heads, an engine and the HTTP server on 127.0.0.1 (port 0);
 * one per test class.
 */
final class LoopbackServer extends LoopbackHarness {
  static final ObjectMapper JSON = new ObjectMapper();

  private LoopbackServer(String config, Path model, Backend backend) {
    super(config, model, backend, "clover");
  }

  /** Starts with {@code config} (HOCON) over the defaults, on a free port unless it names one. */
  static LoopbackServer start(String config) {
    return start(config, Backends.choose(null, 0));
  }

  /** Starts with {@code config} (HOCON) over the defaults, the model on {@code backend}. */
  static LoopbackServer start(String config, Backend backend) {
    return start(config, stories260K(), backend);
  }

  /** Starts with {@code config} (HOCON) over the defaults, the model at {@code path}. */
  static LoopbackServer start(String config, Path path, Backend backend) {
    return new LoopbackServer(config, path, backend);
  }

  URI webSocketUri(String path) {
    return URI.create("ws://127.0.0.1:" + server.port() + path);
  }

  HttpRequest post(String path, String body) {
    return HttpRequest.newBuilder(uri(path))
        .timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  String get(String path) throws IOException, InterruptedException {
    return fetch(path).body();
  }

  /** The events of a streamed response: the JSON after each {@code data:}, {@code [DONE]} last. */
  static List<String> events(Stream<String> lines) {
    List<String> data = new ArrayList<>();
    lines
        .filter(line -> line.startsWith("data:"))
        .forEach(line -> data.add(line.substring(5).strip()));
    return data;
  }

  /** The text of a streamed completion, and its error event if it failed. */
  static StreamedText text(List<String> events) throws IOException {
    StringBuilder text = new StringBuilder();
    JsonNode error = null;
    for (String event : events) {
      if (event.equals("[DONE]")) {
        continue;
      }
      JsonNode chunk = JSON.readTree(event);
      if (chunk.has("error")) {
        error = chunk.path("error");
      } else if (chunk.path("choices").size() > 0) {
        text.append(chunk.path("choices").get(0).path("text").asText());
      }
    }
    return new StreamedText(text.toString(), error);
  }

  /** A streamed completion's text and its error event (null when it succeeded). */
  record StreamedText(String text, JsonNode error) {}

  /** Waits up to 30 s for a sample at /metrics to read {@code value}. */
  void awaitMetric(String sample, double value) {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(metric(sample)).as(sample).isEqualTo(value));
  }
}
