package io.specd.actors;

import static org.assertj.core.api.Assertions.assertThat;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import io.specd.policies.spec.FinishReason;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class OutboxTest {
  private static final ActorTestKit KIT = ActorTestKit.create();
  private static final Duration QUIET = Duration.ofMillis(100);

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  private static TokenEvent.Tokens text(String text) {
    return new TokenEvent.Tokens(
        text,
        new int[] {1},
        new int[] {TokenEvent.TARGET},
        List.of(new TokenEvent.Span(text, TokenEvent.TARGET)),
        List.of());
  }

  @Test
  void shouldSendOneEventPerDemandAndNothingBeforeTheSubscription() {
    Outbox outbox = new Outbox();
    outbox.add(text("a"));
    outbox.add(text("b"));
    assertThat(outbox.deliver()).isFalse(); // nobody subscribed yet
    TestProbe<TokenEvent> consumer = KIT.createTestProbe();
    outbox.subscribe(consumer.getRef());
    outbox.deliver();
    outbox.deliver(); // no ack yet: "b" waits
    assertThat(((TokenEvent.Tokens) consumer.receiveMessage()).text()).isEqualTo("a");
    consumer.expectNoMessage(QUIET);
    outbox.demand();
    outbox.deliver();
    assertThat(((TokenEvent.Tokens) consumer.receiveMessage()).text()).isEqualTo("b");
    assertThat(outbox.wantsEvent()).isFalse(); // not acknowledged yet
    outbox.demand();
    assertThat(outbox.wantsEvent()).isTrue(); // nothing queued: an event made now goes out
  }

  @Test
  void shouldCloseOnceTheTerminalEventIsOutAndAbandonNobody() {
    Outbox outbox = new Outbox();
    TestProbe<TokenEvent> consumer = KIT.createTestProbe();
    outbox.subscribe(consumer.getRef());
    outbox.add(new TokenEvent.Finished(FinishReason.MAX_TOKENS, null));
    assertThat(outbox.deliver()).isTrue();
    consumer.expectMessageClass(TokenEvent.Finished.class);
    outbox.abandon();
    consumer.expectNoMessage(QUIET);
  }

  @Test
  void shouldSendAFailureAloneInPlaceOfWhatWaited() {
    Outbox outbox = new Outbox();
    TestProbe<TokenEvent> consumer = KIT.createTestProbe();
    outbox.add(text("lost"));
    outbox.replaceWith(new TokenEvent.Failed("boom"));
    outbox.subscribe(consumer.getRef());
    assertThat(outbox.deliver()).isTrue();
    assertThat(consumer.expectMessageClass(TokenEvent.Failed.class).message()).isEqualTo("boom");
  }

  @Test
  void shouldTellAWaitingConsumerThatTheSessionStoppedUnlessItWentAway() {
    Outbox waiting = new Outbox();
    TestProbe<TokenEvent> consumer = KIT.createTestProbe();
    waiting.subscribe(consumer.getRef());
    waiting.abandon();
    assertThat(consumer.expectMessageClass(TokenEvent.Failed.class).message())
        .isEqualTo("the session stopped");

    Outbox cancelled = new Outbox();
    TestProbe<TokenEvent> gone = KIT.createTestProbe();
    cancelled.subscribe(gone.getRef());
    cancelled.close();
    cancelled.abandon();
    gone.expectNoMessage(QUIET);
  }
}
