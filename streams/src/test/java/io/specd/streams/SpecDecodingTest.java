package io.specd.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import com.typesafe.config.ConfigFactory;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.specd.actors.CompletionRequest;
import io.specd.actors.Engine;
import io.specd.actors.TokenEvent;
import io.specd.gpu.Backends;
import io.specd.kernels.heads.BundledHeads;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.store.ModelStore;
import io.specd.policies.DraftShape;
import io.specd.policies.PolicyFactory;
import io.specd.policies.PolicySettings;
import io.specd.policies.bandit.PriorRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Akka Streams stage: events arrive in order and end the stream; a consumer that stops pulling
 * pauses its session; cancelling frees the session and its KV cache at once.
 */
class SpecDecodingTest {
  private static Engine engine;

  @BeforeAll
  static void start() {
    LlamaModel model =
        LlamaModel.load(ModelStore.standard().findLocal().orElseThrow(), Backends.choose(null, 0));
    engine =
        Engine.start(
            ConfigFactory.parseString(
                    "specd.gpu.kv-slots = 2\nspecd.session.max-sessions = 2\n"
                        + "specd.session.read-ahead = 1ms\n"
                        + "specd.gpu.context-length = 512\nakka.loglevel = WARNING")
                .withFallback(ConfigFactory.load()),
            model,
            DrafterKind.MEDUSA.load(
                model, BundledHeads.find(DrafterKind.MEDUSA, model).orElseThrow(), 2, 512),
            new PolicyFactory(
                PolicySettings.defaults(DraftShape.forDrafter("medusa")), new PriorRegistry()),
            "static-2",
            AcceptanceMode.LOSSLESS);
  }

  @AfterAll
  static void stop() {
    engine.close();
  }

  @Test
  void shouldStreamTextThenOneFinishedEventAndComplete() throws Exception {
    List<TokenEvent> events =
        SpecDecoding.source(engine, CompletionRequest.greedy("Once upon a time", 40))
            .runWith(Sink.seq(), engine.system())
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    assertThat(events.get(events.size() - 1)).isInstanceOf(TokenEvent.Finished.class);
    assertThat(events.subList(0, events.size() - 1))
        .allSatisfy(e -> assertThat(e).isInstanceOf(TokenEvent.Tokens.class));
    int tokens =
        events.stream()
            .filter(e -> e instanceof TokenEvent.Tokens)
            .mapToInt(e -> ((TokenEvent.Tokens) e).tokenIds().length)
            .sum();
    assertThat(tokens).isEqualTo(40);
  }

  @Test
  void shouldRunRequestsOneAfterAnotherThroughTheFlow() throws Exception {
    List<TokenEvent> events =
        Source.from(
                List.of(
                    CompletionRequest.greedy("The cat", 8), CompletionRequest.greedy("One day", 8)))
            .via(SpecDecoding.flow(engine))
            .runWith(Sink.seq(), engine.system())
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    assertThat(events.stream().filter(e -> e instanceof TokenEvent.Finished)).hasSize(2);
  }

  @Test
  void shouldPauseTheSessionWhileTheConsumerDoesNotPullAndFreeItOnCancel() throws Exception {
    double before = counter("specd_tokens");
    var materialized =
        SpecDecoding.source(engine, CompletionRequest.greedy("Once upon a time", 400))
            .toMat(TestSink.probe(engine.system().classicSystem()), Keep.both())
            .run(engine.system());
    TestSubscriber.Probe<TokenEvent> probe = materialized.second();
    probe.request(1);
    probe.expectNext(scala.concurrent.duration.Duration.create(30, TimeUnit.SECONDS));
    // the session runs ahead of the text it has handed out by the steps it asked with its prompt
    // (16) or, once it has timed a step, by read-ahead's worth of them (1 ms here, against 5 ms by
    // default), and the stream's stages hold a few events, each with every step since the last: a
    // few dozen tokens of the 400 asked (36 observed), then none while nobody pulls
    double[] paused = {-1};
    await()
        .pollInterval(Duration.ofMillis(200))
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> {
              double now = counter("specd_tokens") - before;
              boolean settled = now == paused[0];
              paused[0] = now;
              return settled;
            });
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(2))
        .until(() -> counter("specd_tokens") - before == paused[0]);
    assertThat(paused[0]).isLessThan(50);
    assertThat(gauge("specd_live_sessions")).isEqualTo(1.0);
    materialized.first().cancel();
    probe.expectComplete();
    await()
        .atMost(Duration.ofSeconds(1))
        .untilAsserted(() -> assertThat(gauge("specd_live_sessions")).isEqualTo(0.0));
  }

  private static double counter(String name) {
    return ((CounterSnapshot) snapshot(name)).getDataPoints().get(0).getValue();
  }

  private static double gauge(String name) {
    return ((GaugeSnapshot) snapshot(name)).getDataPoints().get(0).getValue();
  }

  private static MetricSnapshot snapshot(String name) {
    return engine.metrics().registry().scrape().stream()
        .filter(s -> s.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow();
  }
}
