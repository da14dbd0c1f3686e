package io.specd.streams.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.specd.actors.EngineLoader;
import io.specd.gpu.Backends;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** stories260K, plain or with the bundled Clover heads, behind a real server on 127.0.0.1. */
final class TestServer extends LoopbackHarness {
  static final ObjectMapper JSON = new ObjectMapper();

  private TestServer(String config, String drafter) {
    super(config, stories260K(), Backends.choose(null, 0), drafter);
  }

  /**
   * Starts an engine and its server.
   *
   * @param config HOCON over the defaults (the port is a free one)
   * @param clover the bundled Clover heads as drafter, else plain decoding
   */
  static TestServer start(String config, boolean clover) {
    return new TestServer(config, clover ? "clover" : EngineLoader.NONE);
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return fetch(path);
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
}
