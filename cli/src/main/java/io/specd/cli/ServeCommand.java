package io.specd.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.specd.actors.Engine;
import io.specd.actors.EngineLoader;
import io.specd.kernels.llama.LlamaModel;
import io.specd.policies.PolicyFactory;
import io.specd.streams.http.HttpSettings;
import io.specd.streams.http.SpecdServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code specd serve}: the OpenAI-compatible HTTP server. Flags override the Typesafe Config
 * ({@code specd.http}, {@code specd.gpu}, {@code specd.session}: {@code application.conf}, system
 * properties, {@code SPECD_*} variables). Runs until the JVM is asked to stop (Ctrl-C): Akka's
 * shutdown hook then drains the requests in flight before the engine stops.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = "Serve the model over HTTP: OpenAI completions and chat, WebSocket, metrics.")
final class ServeCommand implements Callable<Integer> {

  private static final int MAX_PORT = 65_535;

  /** How long closing the engine may take after the requests have drained. */
  private static final Duration ENGINE_CLOSE_GRACE = Duration.ofSeconds(45);

  @Spec CommandSpec spec;
  @Mixin ModelOptions modelOptions;

  @Option(
      names = "--host",
      paramLabel = "H",
      description = "Interface to listen on (default: specd.http.host, 127.0.0.1).")
  String host;

  @Option(
      names = "--port",
      paramLabel = "P",
      description = "TCP port (default: specd.http.port, 8080; $SPECD_HTTP_PORT).")
  Integer port;

  @Option(
      names = "--api-key",
      paramLabel = "K",
      description = "Require Authorization: Bearer K on /v1 (default: specd.http.api-key, none).")
  String apiKey;

  @Option(names = "--drafter", paramLabel = "D", description = DecodingOptions.DRAFTER_HELP)
  String drafter;

  @Option(
      names = "--heads",
      paramLabel = "FILE",
      description = "Head checkpoint of the drafter (default: the heads shipped for the model).")
  Path heads;

  @Option(
      names = "--policy",
      paramLabel = "X",
      description =
          "Default draft policy of requests that name none: static, static-N, confidence, adaedl,"
              + " tree, bandit or none (default: the drafter's fastest by specd bench).")
  String policy;

  @Option(
      names = "--max-batch",
      paramLabel = "N",
      description = "Most requests fused into one forward pass (default: specd.gpu.max-batch).")
  Integer maxBatch;

  @Override
  public Integer call() throws Exception {
    if (port != null && (port < 0 || port > MAX_PORT)) {
      throw new ParameterException(
          spec.commandLine(), "--port must be in 0.." + MAX_PORT + ", got " + port);
    }
    Config config = config();
    HttpSettings http = HttpSettings.fromConfig(config);
    if (policy != null) {
      PolicyFactory.checkKnown(policy); // before the model loads
    }
    LlamaModel model = modelOptions.load(config);
    Engine engine;
    try {
      engine = EngineLoader.start(config, model, drafter, heads, policy, false);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    SpecdServer server;
    try {
      server = SpecdServer.start(engine, http).toCompletableFuture().get();
    } catch (ExecutionException e) {
      engine.close();
      throw new IOException(
          "cannot listen on " + http.host() + ":" + http.port() + ": " + e.getCause().getMessage(),
          e.getCause());
    }
    // before the line that tells a supervisor the server is up, so a stop right after it exits 0
    CountDownLatch stopped = exitZeroOnSignal(http.shutdownDeadline().plus(ENGINE_CLOSE_GRACE));
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "specd serving %s at %s (%s backend, drafter %s, policy %s, context %d tokens);"
            + " Ctrl-C stops%n",
        model.source().getFileName(),
        server.url(),
        model.backend().name(),
        engine.drafterName(),
        engine.defaultPolicy(),
        engine.contextLength());
    out.flush();
    engine.system().getWhenTerminated().toCompletableFuture().join();
    engine.close();
    stopped.countDown();
    return 0;
  }

  /**
   * Makes a stop by signal (Ctrl-C, SIGTERM) exit with 0 once the shutdown it starts has finished
   * cleanly, instead of the JVM's 128 + signal: a shutdown hook waits for the returned latch and
   * then halts with 0. If the shutdown does not finish within {@code grace}, the hook gives up and
   * the JVM exits with the signal's status.
   */
  private static CountDownLatch exitZeroOnSignal(Duration grace) {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    if (stopped.await(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                      Runtime.getRuntime().halt(0);
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                },
                "specd-clean-exit"));
    return stopped;
  }

  /**
   * The flags over {@code ConfigFactory.load()}, and coordinated shutdown's request-draining phase
   * given as long as {@code specd.http.shutdown-deadline} (its own default is 5 s).
   */
  private Config config() {
    Map<String, Object> flags = new HashMap<>();
    if (host != null) {
      flags.put("specd.http.host", host);
    }
    if (port != null) {
      flags.put("specd.http.port", port);
    }
    if (apiKey != null) {
      flags.put("specd.http.api-key", apiKey);
    }
    if (maxBatch != null) {
      flags.put("specd.gpu.max-batch", maxBatch);
    }
    Config config = ConfigFactory.parseMap(flags).withFallback(ConfigFactory.load());
    long drainMillis = config.getDuration("specd.http.shutdown-deadline").toMillis() + 1000;
    return ConfigFactory.parseMap(
            Map.of(
                "akka.coordinated-shutdown.phases.service-requests-done.timeout",
                drainMillis + "ms"))
        .withFallback(config);
  }
}
