package io.specd.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.DispatcherSelector;
import io.specd.kernels.cpu.JavaBackend;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.PlainDrafter;
import io.specd.kernels.spec.SessionState;
import io.specd.kernels.store.ModelStore;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The device actor on the real model: it steps a session as often as the session asked, never past
 * its end, sends fast steps' results together, and one session's trouble never ends another's step.
 */
class DeviceActorTest {
  private static final int CONTEXT = 24;
  private static final Duration QUIET = Duration.ofMillis(200);
  private static final ActorTestKit KIT = ActorTestKit.create();
  private static LlamaModel model;
  private static ActorRef<DeviceActor.Command> device;

  @BeforeAll
  static void start() {
    Optional<Path> path = ModelStore.standard().findLocal();
    assumeTrue(path.isPresent(), "stories260K.gguf is not available");
    model = LlamaModel.load(path.get(), new JavaBackend(1));
    DeviceSettings settings = new DeviceSettings(4, 64, 4, CONTEXT, false, 0, 0);
    device = spawn("device", settings);
  }

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
    if (model != null) {
      model.close();
    }
  }

  @Test
  void shouldRefuseAPrefillWhoseMaxTokensWouldOverflow() {
    TestProbe<DeviceActor.Reply> replies = KIT.createTestProbe();
    device.tell(prefill("overflow", Integer.MAX_VALUE, 0, replies));
    assertThat(replies.expectMessageClass(DeviceActor.Failed.class).message())
        .contains("beyond the KV cache");
  }

  @Test
  void shouldStepASessionAsOftenAsItAskedAndNeverPastItsEnd() {
    TestProbe<DeviceActor.Reply> replies = KIT.createTestProbe();
    device.tell(prefill("ahead", 4, 2, replies));
    replies.expectMessageClass(DeviceActor.Prefilled.class);
    assertThat(replies.expectMessageClass(DeviceActor.Stepped.class).steps()).hasSize(1);
    assertThat(replies.expectMessageClass(DeviceActor.Stepped.class).steps()).hasSize(1);
    replies.expectNoMessage(QUIET); // it asked for two steps ahead
    device.tell(new DeviceActor.Step("ahead", 3, replies.ref()));
    replies.expectMessageClass(DeviceActor.Stepped.class); // its fourth token: max_tokens
    device.tell(new DeviceActor.Step("ahead", 1, replies.ref()));
    replies.expectNoMessage(QUIET); // not the steps it asked beyond
    device.tell(new DeviceActor.Release("ahead"));
  }

  @Test
  void shouldSendTheStepsOfASessionTogetherWithinTheReplyInterval() {
    ActorRef<DeviceActor.Command> holding =
        spawn(
            "holding",
            new DeviceSettings(4, 64, 4, CONTEXT, false, 0, Duration.ofHours(1).toNanos()));
    TestProbe<DeviceActor.Reply> replies = KIT.createTestProbe();
    holding.tell(prefill("together", 6, 8, replies));
    replies.expectMessageClass(DeviceActor.Prefilled.class);
    // held until they are as many as the steps still asked (the session asks for more meanwhile)
    assertThat(replies.expectMessageClass(DeviceActor.Stepped.class).steps()).hasSize(4);
    // the session's end (max_tokens: the prefill's token and five steps') sends what is held
    assertThat(replies.expectMessageClass(DeviceActor.Stepped.class).steps()).hasSize(1);
    replies.expectNoMessage(QUIET);
    KIT.stop(holding);
  }

  @Test
  void aSessionThatHasEndedShouldNotHoldBackAnother() {
    TestProbe<DeviceActor.Reply> ended = KIT.createTestProbe();
    TestProbe<DeviceActor.Reply> innocent = KIT.createTestProbe();
    device.tell(prefill("ended", 1, 0, ended)); // the prefill's token is its only one
    ended.expectMessageClass(DeviceActor.Prefilled.class);
    device.tell(prefill("innocent", 4, 0, innocent));
    innocent.expectMessageClass(DeviceActor.Prefilled.class);

    device.tell(new DeviceActor.Step("ended", 1, ended.ref()));
    device.tell(new DeviceActor.Step("innocent", 1, innocent.ref()));

    innocent.expectMessageClass(DeviceActor.Stepped.class);
    ended.expectNoMessage(QUIET);
    device.tell(new DeviceActor.Release("ended"));
    device.tell(new DeviceActor.Release("innocent"));
  }

  /**
   * A long prompt is prefilled a few tokens a round, and the rounds step the session already
   * streaming in between: that session's tokens go on arriving before the long prompt's first.
   */
  @Test
  void aLongPromptShouldBePrefilledInPartsBetweenTheStepsOfASessionAlreadyStreaming() {
    ActorRef<DeviceActor.Command> chunking =
        spawn("chunking", new DeviceSettings(4, 2, 4, 256, false, 0, 0));
    TestProbe<DeviceActor.Reply> replies = KIT.createTestProbe();
    // two sessions (each watched on its own), their replies to one probe
    chunking.tell(prefill("streaming", "Once upon a time", 100, 0, replies, KIT.createTestProbe()));
    replies.expectMessageClass(DeviceActor.Prefilled.class);
    String longPrompt = "Lily and Tom went to the park. They saw a big dog. ".repeat(10);
    assertThat(model.tokenizer().encodePrompt(longPrompt).length).isGreaterThan(100);
    chunking.tell(prefill("long", longPrompt, 4, 0, replies, KIT.createTestProbe()));
    chunking.tell(new DeviceActor.Step("streaming", 60, replies.ref()));
    int stepsBefore = 0;
    while (true) {
      DeviceActor.Reply reply = replies.receiveMessage();
      if (reply instanceof DeviceActor.Prefilled prefilled) {
        assertThat(prefilled.sessionId()).isEqualTo("long");
        break;
      }
      assertThat(reply).isInstanceOf(DeviceActor.Stepped.class);
      stepsBefore += ((DeviceActor.Stepped) reply).steps().size();
    }
    // over 50 rounds of two prompt tokens each: the stream steps in every one (a round's steps
    // run after its prefill), unless the prompt's first parts ran before the step was asked
    assertThat(stepsBefore).isGreaterThan(10);
    KIT.stop(chunking);
  }

  @Test
  void shouldFailAStepOfASessionItDoesNotHold() {
    TestProbe<DeviceActor.Reply> replies = KIT.createTestProbe();
    device.tell(new DeviceActor.Step("unknown", 1, replies.ref()));
    assertThat(replies.expectMessageClass(DeviceActor.Failed.class).message())
        .contains("no state on the device");
  }

  /** A device actor on the test model with a plain drafter. */
  private static ActorRef<DeviceActor.Command> spawn(String name, DeviceSettings settings) {
    return KIT.spawn(
        DeviceActor.create(
            model,
            new PlainDrafter(model.config()),
            AcceptanceMode.LOSSLESS,
            settings,
            DeviceObserver.NONE),
        name,
        DispatcherSelector.fromConfig(DeviceSettings.DISPATCHER));
  }

  private static DeviceActor.Prefill prefill(
      String id, int maxTokens, int steps, TestProbe<DeviceActor.Reply> replies) {
    return prefill(id, "Once upon a time", maxTokens, steps, replies, replies);
  }

  private static DeviceActor.Prefill prefill(
      String id,
      String prompt,
      int maxTokens,
      int steps,
      TestProbe<DeviceActor.Reply> replies,
      TestProbe<?> session) {
    return new DeviceActor.Prefill(
        id,
        model.tokenizer().encodePrompt(prompt),
        maxTokens,
        SamplingParams.GREEDY,
        SessionState.NO_LOGPROBS,
        new StaticPolicy("none", Plan.NO_SPECULATION),
        steps,
        session.ref(),
        replies.ref());
  }
}
