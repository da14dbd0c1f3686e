package io.specd.actors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import akka.actor.testkit.typed.FishingOutcome;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.TestProbe;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.heads.BundledHeads;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.sample.TokenLogprobs;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.store.ModelStore;
import io.specd.kernels.tokenizer.TextPiece;
import io.specd.kernels.torch.TorchBackend;
import io.specd.policies.DraftShape;
import io.specd.policies.PolicyFactory;
import io.specd.policies.PolicySettings;
import io.specd.policies.bandit.PriorRegistry;
import io.specd.policies.spec.FinishReason;
import io.specd.policies.spec.SamplingParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine on the real model with the bundled Clover-2 heads: sessions decode exactly as plain
 * greedy decoding does, alone or side by side; stop strings cut the text; a cancelled session frees
 * its KV cache; a full admission queue refuses; a device failure ends the sessions in flight with
 * an error event and the engine keeps serving.
 */
class EngineTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static Engine engine;
  private static LlamaModel reference;

  @BeforeAll
  static void start() {
    Config config =
        ConfigFactory.parseString(
                "specd.gpu.kv-slots = 4\n"
                    + "specd.gpu.context-length = 512\n"
                    + "specd.session.max-sessions = 3\n"
                    + "specd.session.admission-queue = 1\n"
                    + "specd.gpu.fault-injection = on\n"
                    + "specd.session.subscribe-timeout = 1s\n"
                    + "akka.loglevel = WARNING")
            .withFallback(ConfigFactory.load());
    LlamaModel model = load();
    reference = load();
    Drafter drafter =
        DrafterKind.CLOVER.load(
            model, BundledHeads.find(DrafterKind.CLOVER, model).orElseThrow(), 4, 512);
    PolicyFactory policies =
        new PolicyFactory(
            PolicySettings.defaults(DraftShape.forDrafter("clover")), new PriorRegistry());
    engine = Engine.start(config, model, drafter, policies, "static-3", AcceptanceMode.LOSSLESS);
  }

  @AfterAll
  static void stop() {
    engine.close();
    reference.close();
  }

  private static LlamaModel load() {
    LlamaModel model =
        LlamaModel.load(ModelStore.standard().findLocal().orElseThrow(), TorchBackend.cpu());
    return model;
  }

  @Test
  void shouldStreamWhatPlainGreedyDecodingProduces() {
    String prompt = "Once upon a time";
    Run run = Run.open(CompletionRequest.greedy(prompt, 64));
    run.collect();
    assertThat(run.tokens()).containsExactly(plain(prompt, 64));
    assertThat(run.finished.reason()).isEqualTo(FinishReason.MAX_TOKENS);
    assertThat(run.finished.usage().stats().generatedTokens()).isEqualTo(64);
    assertThat(run.finished.usage().stats().meanAccepted()).isGreaterThan(1.0);
    assertThat(run.finished.usage().drafter()).isEqualTo("clover");
  }

  @Test
  void shouldReportTheTargetsLogprobsWhetherOrNotItSpeculates() {
    String prompt = "Once upon a time";
    Run speculative = Run.open(withLogprobs(prompt, "static-3")).collect();
    Run plain = Run.open(withLogprobs(prompt, "none")).collect();
    assertThat(speculative.depths).as("some tokens came from the draft").contains(1, 2);
    assertThat(speculative.tokens()).containsExactly(plain.tokens());
    assertThat(speculative.logprobs).hasSize(48);
    for (int i = 0; i < 48; i++) {
      TokenLogprobs drafted = speculative.logprobs.get(i);
      TokenLogprobs own = plain.logprobs.get(i);
      assertThat(drafted.token()).isEqualTo(speculative.tokens()[i]);
      assertThat(drafted.logprob()).isCloseTo(own.logprob(), within(1e-4f));
      assertThat(drafted.topTokens()).containsExactly(own.topTokens());
      for (int r = 0; r < 5; r++) {
        assertThat(drafted.topLogprobs()[r]).isCloseTo(own.topLogprobs()[r], within(1e-4f));
      }
      // greedy: the chosen token is the most likely one
      assertThat(drafted.topTokens()[0]).isEqualTo(drafted.token());
      assertThat(drafted.topLogprobs()[0]).isEqualTo(drafted.logprob());
    }
  }

  private static CompletionRequest withLogprobs(String prompt, String policy) {
    return new CompletionRequest(
        List.of(TextPiece.parsed(prompt)), null, 48, SamplingParams.GREEDY, List.of(), policy, 5);
  }

  @Test
  void shouldTellHowEachTokenWasProduced() {
    Run run = Run.open(CompletionRequest.greedy("Once upon a time", 64)).collect();
    long drafted = run.depths.stream().filter(d -> d > 0).count();
    long own = run.depths.size() - drafted;
    // the prompt's first token and each step's bonus token are the target's; the last step may
    // be cut at max_tokens
    assertThat(own)
        .isBetween(
            (long) run.finished.usage().stats().steps(), 1L + run.finished.usage().stats().steps());
    assertThat(drafted)
        .isPositive()
        .isLessThanOrEqualTo(run.finished.usage().stats().acceptedTokens());
    assertThat(run.spans.toString()).isEqualTo(run.text.toString());
  }

  @Test
  void shouldDecodeSessionsSideBySideAsIfAlone() {
    String[] prompts = {"The cat", "One day", "Lily saw a"};
    List<Run> runs = new ArrayList<>();
    for (String prompt : prompts) {
      runs.add(Run.open(CompletionRequest.greedy(prompt, 40)));
    }
    runs.forEach(Run::collect);
    for (int i = 0; i < prompts.length; i++) {
      assertThat(runs.get(i).tokens()).as(prompts[i]).containsExactly(plain(prompts[i], 40));
    }
  }

  @Test
  void shouldCutTheCompletionAtAStopString() {
    String full =
        Run.open(CompletionRequest.greedy("Once upon a time", 40)).collect().text.toString();
    String stop = full.substring(10, 14);
    Run run =
        Run.open(
            new CompletionRequest(
                "Once upon a time", 40, SamplingParams.GREEDY, List.of(stop), null));
    run.collect();
    assertThat(run.finished.reason()).isEqualTo(FinishReason.STOP_STRING);
    assertThat(run.text.toString()).isEqualTo(full.substring(0, full.indexOf(stop)));
    // tokens after the one that completed the stop string are neither sent nor counted
    assertThat(run.finished.usage().completionTokens()).isEqualTo(run.tokens().length);
    assertThat(reference.tokenizer().decode(Arrays.copyOf(run.tokens(), run.tokens().length - 1)))
        .doesNotContain(stop);
  }

  @Test
  void shouldStopASessionNobodySubscribesToAndFreeItsSlot() throws Exception {
    engine
        .open(CompletionRequest.greedy("The dog", 100))
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        engine.metrics().registry().scrape().stream()
                            .filter(m -> m.getMetadata().getName().equals("specd_live_sessions"))
                            .map(m -> ((GaugeSnapshot) m).getDataPoints().get(0).getValue())
                            .findFirst()
                            .orElseThrow())
                    .isZero());
  }

  @Test
  void shouldRejectBadRequestsAtOnce() {
    assertThatThrownBy(() -> engine.open(CompletionRequest.greedy("Once", 600)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("max_tokens is 600")
        .hasMessageContaining("context length of 512");
    assertThatThrownBy(
            () ->
                engine.open(
                    new CompletionRequest("Once", 8, SamplingParams.GREEDY, List.of(), "fastest")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown policy 'fastest'");
  }

  @Test
  void shouldFreeTheSessionOfACancelledRequestAndRefuseBeyondTheQueue() throws Exception {
    // three sessions decode and stall (no acks), one waits, the fifth is refused
    List<Engine.Session> held = new ArrayList<>();
    List<TestProbe<TokenEvent>> probes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Engine.Session session =
          engine
              .open(CompletionRequest.greedy("The dog", 200))
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      TestProbe<TokenEvent> probe = TestProbe.create(engine.system());
      session.subscribe(probe.getRef());
      probe.expectMessageClass(TokenEvent.Tokens.class, WAIT);
      held.add(session);
      probes.add(probe);
    }
    var waiting = engine.open(CompletionRequest.greedy("A bird", 8)).toCompletableFuture();
    assertThatThrownBy(
            () -> engine.open(CompletionRequest.greedy("A fish", 8)).toCompletableFuture().join())
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(EngineOverloaded.class);
    assertThat(waiting).isNotDone();
    held.get(0).cancel();
    Engine.Session admitted = waiting.get(30, TimeUnit.SECONDS);
    Run run = new Run(admitted).collect();
    assertThat(run.finished.reason()).isEqualTo(FinishReason.MAX_TOKENS);
    held.subList(1, 3).forEach(Engine.Session::cancel);
  }

  @Test
  void shouldFailTheSessionsInFlightOnADeviceFaultAndKeepServing() {
    Run inFlight = Run.open(CompletionRequest.greedy("Once upon a time", 200));
    inFlight.probe.expectMessageClass(TokenEvent.Tokens.class, WAIT);
    engine.injectDeviceFault("injected fault");
    inFlight.session.ack();
    List<TokenEvent> events =
        inFlight.probe.fishForMessage(
            WAIT,
            event ->
                event instanceof TokenEvent.Tokens ? acking(inFlight) : FishingOutcomes.complete());
    TokenEvent last = events.get(events.size() - 1);
    assertThat(last)
        .isInstanceOfSatisfying(
            TokenEvent.Failed.class, f -> assertThat(f.message()).contains("injected fault"));
    Run next = Run.open(CompletionRequest.greedy("Once upon a time", 32)).collect();
    assertThat(next.tokens()).containsExactly(plain("Once upon a time", 32));
  }

  private static FishingOutcome acking(Run run) {
    run.session.ack();
    return FishingOutcomes.continueAndIgnore();
  }

  private static int[] plain(String prompt, int tokens) {
    try (KvCachePool pool = reference.newCachePool(1, 512)) {
      return new AutoregressiveDecoder(reference, pool)
          .generate(
              new GenerationRequest(
                  reference.tokenizer().encodePrompt(prompt), tokens, SamplingParams.GREEDY),
              TokenSink.IGNORE)
          .tokens();
    }
  }

  /** One request's events, acknowledged one by one. */
  private static final class Run {
    final Engine.Session session;
    final TestProbe<TokenEvent> probe = TestProbe.create(engine.system());
    final StringBuilder text = new StringBuilder();
    final List<Integer> ids = new ArrayList<>();
    final List<Integer> depths = new ArrayList<>();
    final StringBuilder spans = new StringBuilder();
    final List<TokenLogprobs> logprobs = new ArrayList<>();
    TokenEvent.Finished finished;

    Run(Engine.Session session) {
      this.session = session;
      session.subscribe(probe.getRef());
    }

    static Run open(CompletionRequest request) {
      return new Run(engine.open(request).toCompletableFuture().join());
    }

    Run collect() {
      while (true) {
        TokenEvent event = probe.receiveMessage(WAIT);
        if (event instanceof TokenEvent.Tokens t) {
          text.append(t.text());
          for (int id : t.tokenIds()) {
            ids.add(id);
          }
          for (int depth : t.depths()) {
            depths.add(depth);
          }
          t.spans().forEach(span -> spans.append(span.text()));
          logprobs.addAll(t.logprobs());
          session.ack();
        } else if (event instanceof TokenEvent.Finished f) {
          finished = f;
          return this;
        } else {
          throw new AssertionError("unexpected " + event);
        }
      }
    }

    int[] tokens() {
      return ids.stream().mapToInt(Integer::intValue).toArray();
    }
  }
}
