package io.specd.streams.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.specd.actors.Engine;
import io.specd.actors.EngineLoader;
import io.specd.kernels.TestModels;
import io.specd.kernels.llama.Backend;
import io.specd.kernels.llama.LlamaModel;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real engine behind a real server on 127.0.0.1, the test harness that {@code streams}' tests
 * ({@link TestServer}) and the integration tests of {@code it/} share (this module's test-jar): one
 * per test class, closed with it.
 */
public class LoopbackHarness implements AutoCloseable {
  /** The engine's default policy: Clover-2's static shape, three deep. */
  public static final String DEFAULT_POLICY = "static-3";

  public final Engine engine;
  public final SpecdServer server;
  public final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  /**
   * Loads the model, starts an engine with the drafter and the server. The engine's default policy
   * drafts a fixed shape ({@link #DEFAULT_POLICY}) rather than the backend's default (the goodput
   * planner, which on the cache-resident stories260K rightly stops drafting): these tests are about
   * the server, and most want drafts to show.
   *
   * @param config HOCON over the defaults; the port is a free one unless it names one
   * @param drafter a drafter name ({@code none}, {@code clover}, …) with its shipped heads
   */
  protected LoopbackHarness(String config, Path model, Backend backend, String drafter) {
    Config full =
        ConfigFactory.parseString("specd.http.port = 0\n" + config)
            .withFallback(ConfigFactory.load());
    LlamaModel loaded = LlamaModel.load(model, backend);
    this.engine =
        EngineLoader.start(
            full, loaded, drafter, null, drafter.equals("none") ? null : DEFAULT_POLICY, false);
    try {
      this.server =
          SpecdServer.start(engine, HttpSettings.fromConfig(full)).toCompletableFuture().join();
    } catch (RuntimeException e) {
      engine.close();
      throw e;
    }
  }

  /** The default model file, found as the command line finds it. */
  public static Path stories260K() {
    return TestModels.stories260K();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.port();
  }

  public URI uri(String path) {
    return URI.create(baseUrl() + path);
  }

  /** A GET of {@code path}, its body as text. */
  public HttpResponse<String> fetch(String path) throws IOException, InterruptedException {
    return client.send(
        HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A sample's value in the Prometheus text at /metrics (0 if absent). */
  public double metric(String sample) throws IOException, InterruptedException {
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(sample) + " (\\S+)$")
            .matcher(fetch("/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : 0.0;
  }

  @Override
  public void close() {
    server.stop().toCompletableFuture().join();
    engine.close();
  }
}
