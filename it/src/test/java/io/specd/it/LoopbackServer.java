package io.specd.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.specd.actors.Engine;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.store.ModelStore;
import io.specd.streams.Backends;
import io.specd.streams.EngineLoader;
import io.specd.streams.http.HttpSettings;
import io.specd.streams.http.SpecdServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * stories260K with the bundled Clover heads, an engine and the HTTP server on 127.0.0.1 (port 0);
 * one per test class.
 */
final class LoopbackServer implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  final Engine engine;
  final SpecdServer server;
  final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private LoopbackServer(Engine engine, SpecdServer server) {
    this.engine = engine;
    this.server = server;
  }

  /** Starts with {@code config} (HOCON) over the defaults. */
  static LoopbackServer start(String config) {
    Path path =
        ModelStore.standard()
            .findLocal()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "stories260K.gguf not found: put ../shared/models beside the checkout"));
    Config full =
        ConfigFactory.parseString(config + "\nspecd.http.port = 0")
            .withFallback(ConfigFactory.load());
    LlamaModel model = LlamaModel.load(path, Backends.choose(null, 0));
    Engine engine = EngineLoader.start(full, model, "clover", null, null, false);
    SpecdServer server =
        SpecdServer.start(engine, HttpSettings.fromConfig(full)).toCompletableFuture().join();
    return new LoopbackServer(engine, server);
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.port();
  }

  URI uri(String path) {
    return URI.create(baseUrl() + path);
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
    return client
        .send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString())
        .body();
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

  /** A sample's value in the Prometheus text at /metrics, e.g. {@code specd_live_sessions}. */
  double metric(String sample) throws IOException, InterruptedException {
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(sample) + " (\\S+)$").matcher(get("/metrics"));
    return m.find() ? Double.parseDouble(m.group(1)) : 0.0;
  }

  /** Waits up to 30 s for a sample at /metrics to read {@code value}. */
  void awaitMetric(String sample, double value) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    double now = metric(sample);
    while (now != value && System.nanoTime() < deadline) {
      Thread.sleep(20);
      now = metric(sample);
    }
    if (now != value) {
      throw new AssertionError(sample + " is " + now + " after 30 s, not " + value);
    }
  }

  @Override
  public void close() {
    server.stop().toCompletableFuture().join();
    engine.close();
  }
}
