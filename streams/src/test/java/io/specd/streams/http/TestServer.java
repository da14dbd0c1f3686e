package io.specd.streams.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.specd.actors.Engine;
import io.specd.actors.EngineLoader;
import io.specd.gpu.Backends;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.store.ModelStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/** A real engine on stories260K behind a real server on 127.0.0.1, port 0; one per test class. */
final class TestServer implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  final Engine engine;
  final SpecdServer server;
  final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private TestServer(Engine engine, SpecdServer server) {
    this.engine = engine;
    this.server = server;
  }

  /**
   * Starts an engine and its server.
   *
   * @param config HOCON over the defaults (specd.http.port is forced to 0)
   * @param clover the bundled Clover heads as drafter, else plain decoding
   */
  static TestServer start(String config, boolean clover) {
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
    Engine engine =
        EngineLoader.start(full, model, clover ? "clover" : EngineLoader.NONE, null, null, false);
    SpecdServer server =
        SpecdServer.start(engine, HttpSettings.fromConfig(full)).toCompletableFuture().join();
    return new TestServer(engine, server);
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return client.send(
        HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
    return client.send(postRequest(path, body).build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpRequest.Builder postRequest(URI uri, String body) {
    return HttpRequest.newBuilder(uri)
        .timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  HttpRequest.Builder postRequest(String path, String body) {
    return postRequest(uri(path), body);
  }

  static JsonNode json(HttpResponse<String> response) throws IOException {
    return JSON.readTree(response.body());
  }

  @Override
  public void close() {
    server.stop().toCompletableFuture().join();
    engine.close();
  }
}
