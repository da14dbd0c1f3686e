package io.specd.streams.http;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.settings.ServerSettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.specd.actors.Engine;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server: {@link SpecdRoutes} bound in the engine's actor system. The server joins the
 * system's coordinated shutdown, so a JVM shutdown (Ctrl-C) or {@code system.terminate()} first
 * stops accepting connections, then lets the generations in flight stream to their end for up to
 * {@code specd.http.shutdown-deadline}, and only then stops the engine's actors. Thread-safe.
 *
 * <pre>{@code
 * SpecdServer server = SpecdServer.start(engine, HttpSettings.fromConfig(config))
 *     .toCompletableFuture().join();
 * System.out.println(server.url());
 * }</pre>
 */
public final class SpecdServer {
  private static final Logger LOG = LoggerFactory.getLogger(SpecdServer.class);

  /** How long connections get to close once their generations have ended. */
  private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(1);

  private final ServerBinding binding;
  private final SpecdRoutes routes;
  private final HttpSettings settings;

  private SpecdServer(ServerBinding binding, SpecdRoutes routes, HttpSettings settings) {
    this.binding = binding;
    this.routes = routes;
    this.settings = settings;
  }

  /**
   * Binds the API at {@code settings.host():settings.port()}.
   *
   * @return the running server, or a stage failed with the bind error (e.g. the port is taken)
   */
  public static CompletionStage<SpecdServer> start(Engine engine, HttpSettings settings) {
    SpecdRoutes routes = new SpecdRoutes(engine, settings);
    ActorSystem<?> system = engine.system();
    return Http.get(system)
        .newServerAt(settings.host(), settings.port())
        .withSettings(serverSettings(system.settings().config(), engine, settings))
        .bindFlow(
            HeaderTimeout.around(
                new ConnectionsPerAddress(settings.maxConnectionsPerAddress())
                    .around(ConnectionScope.around(routes.route().flow(system))),
                settings.headerTimeout()))
        .thenApply(
            binding -> {
              SpecdServer server = new SpecdServer(binding, routes, settings);
              CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
              shutdown.addTask(
                  CoordinatedShutdown.PhaseServiceUnbind(),
                  "specd-http-unbind",
                  () -> binding.unbind().thenApply(unbound -> Done.getInstance()));
              shutdown.addTask(
                  CoordinatedShutdown.PhaseServiceRequestsDone(),
                  "specd-http-drain",
                  server::drainAndClose);
              LOG.info(
                  "serving {} at {} (drafter {}, policy {})",
                  SpecdRoutes.modelId(engine),
                  server.url(),
                  engine.drafterName(),
                  engine.defaultPolicy());
              return server;
            });
  }

  /**
   * Akka HTTP's settings with three changes: a connection may stay quiet while a whole (not
   * streamed) response is computed for as long as the engine lets a request run, request bodies are
   * capped at {@code specd.http.limits.body-bytes}, and WebSockets are pinged when quiet, as SSE
   * streams get heartbeats.
   */
  private static ServerSettings serverSettings(
      Config config, Engine engine, HttpSettings settings) {
    Duration idle = config.getDuration("akka.http.server.idle-timeout");
    Duration longest = engine.requestTimeout().plusSeconds(10);
    Config tuned =
        ConfigFactory.empty()
            .withValue(
                "akka.http.server.idle-timeout",
                ConfigValueFactory.fromAnyRef(
                    (idle.compareTo(longest) >= 0 ? idle : longest).toMillis() + "ms"))
            // Akka HTTP delays the cancellation of a response stream by default (100 ms, in
            // practice about a second here) to let a response finish when a route did not read
            // its request; every route here reads its request first, and a client that hangs up
            // must free its session and KV cache at once.
            .withValue(
                "akka.http.server.stream-cancellation-delay", ConfigValueFactory.fromAnyRef("0s"))
            // the longest standard method is 7 letters: a request line of garbage without a space
            // (GARBAGE) is refused at once instead of waiting for more bytes
            .withValue(
                "akka.http.server.parsing.max-method-length", ConfigValueFactory.fromAnyRef(7))
            .withValue(
                "akka.http.server.parsing.error-handler",
                ConfigValueFactory.fromAnyRef(JsonParsingErrors.class.getName()))
            // the client's address on every request, for the connections-per-address cap
            .withValue(
                "akka.http.server.remote-address-attribute", ConfigValueFactory.fromAnyRef(true))
            .withValue(
                "akka.http.server.max-connections",
                ConfigValueFactory.fromAnyRef(settings.maxConnections()))
            .withValue(
                "akka.http.server.parsing.max-content-length",
                ConfigValueFactory.fromAnyRef(settings.limits().bodyBytes()))
            .withValue(
                "akka.http.server.websocket.periodic-keep-alive-max-idle",
                ConfigValueFactory.fromAnyRef(settings.keepAlive().toMillis() + "ms"))
            .withFallback(config);
    return ServerSettings.create(tuned);
  }

  /** The address the server listens on (with the real port when port 0 was asked for). */
  public InetSocketAddress address() {
    return binding.localAddress();
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  /** The base URL, e.g. {@code http://127.0.0.1:8080/}. */
  public String url() {
    return "http://" + hostForUrl() + ":" + port() + "/";
  }

  private String hostForUrl() {
    String host = settings.host();
    return host.contains(":") ? "[" + host + "]" : host;
  }

  /**
   * Stops accepting connections, lets the generations in flight stream to their end for up to the
   * shutdown deadline, then closes every connection; the engine keeps running.
   */
  public CompletionStage<Done> stop() {
    return binding.unbind().thenCompose(unbound -> drainAndClose());
  }

  /**
   * Akka HTTP's own graceful termination counts a streamed response as done once its headers are
   * out, so it would cut SSE and WebSocket streams: wait for the generations first.
   */
  private CompletionStage<Done> drainAndClose() {
    return routes
        .drained(settings.shutdownDeadline())
        .thenCompose(drained -> binding.terminate(CLOSE_DEADLINE))
        .thenApply(terminated -> Done.getInstance());
  }
}
