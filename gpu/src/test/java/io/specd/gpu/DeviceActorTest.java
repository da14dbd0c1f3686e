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
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The device actor on the real model: one session's trouble never ends another's step. */
class DeviceActorTest {
  private static final int CONTEXT = 24;
  private static final ActorTestKit KIT = ActorTestKit.create();
  private static LlamaModel model;
  private static ActorRef<DeviceActor.Command> device;

  @BeforeAll
  static void start() {
    Optional<Path> path = ModelStore.standard().findLocal();
    assumeTrue(path.isPresent(), "stories260K.gguf is not available");
    model = LlamaModel.load(path.get(), new JavaBackend(1));
    DeviceSettings settings = new DeviceSettings(4, Duration.ofMillis(2), 4, CONTEXT, false, 0);
    device =
        KIT.spawn(
            DeviceActor.create(
                model,
                new PlainDrafter(model.config()),
                AcceptanceMode.LOSSLESS,
                settings,
                DeviceObserver.NONE),
            "device",
            DispatcherSelector.fromConfig(DeviceSettings.DISPATCHER));
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
    device.tell(prefill("overflow", Integer.MAX_VALUE, replies));
    assertThat(replies.expectMessageClass(DeviceActor.Failed.class).message())
        .contains("beyond the KV cache");
  }

  @Test
  void shouldEndOnlyTheSessionWhoseCacheIsFull() {
    TestProbe<DeviceActor.Reply> full = KIT.createTestProbe();
    TestProbe<DeviceActor.Reply> innocent = KIT.createTestProbe();
    int[] prompt = model.tokenizer().encodePrompt("Once upon a time");
    // the device trusts the admission check; a session stepping past it fills its cache
    device.tell(prefill("full", CONTEXT - prompt.length, full));
    full.expectMessageClass(DeviceActor.Prefilled.class);
    for (int step = 0; step < CONTEXT - prompt.length; step++) {
      device.tell(new DeviceActor.Verify("full", Plan.NO_SPECULATION, full.ref()));
      full.expectMessageClass(DeviceActor.Verified.class);
    }
    device.tell(prefill("innocent", 4, innocent));
    innocent.expectMessageClass(DeviceActor.Prefilled.class);

    device.tell(new DeviceActor.Verify("full", Plan.NO_SPECULATION, full.ref()));
    device.tell(new DeviceActor.Verify("innocent", Plan.NO_SPECULATION, innocent.ref()));

    full.expectMessageClass(DeviceActor.Exhausted.class);
    innocent.expectMessageClass(DeviceActor.Verified.class);
  }

  private static DeviceActor.Prefill prefill(
      String id, int maxTokens, TestProbe<DeviceActor.Reply> replies) {
    return new DeviceActor.Prefill(
        id,
        model.tokenizer().encodePrompt("Once upon a time"),
        maxTokens,
        SamplingParams.GREEDY,
        SessionState.NO_LOGPROBS,
        replies.ref(),
        replies.ref());
  }
}
