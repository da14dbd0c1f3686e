package io.specd.actors;

import akka.actor.typed.ActorRef;
import java.util.ArrayDeque;

/**
 * A session's events on their way to its consumer, one at a time on demand: an event goes out only
 * after the consumer subscribed or acknowledged the previous one, so a slow consumer holds the
 * events back (and with them the session's next steps). Not thread-safe: its actor's own.
 */
final class Outbox {
  private final ArrayDeque<TokenEvent> pending = new ArrayDeque<>();
  private ActorRef<TokenEvent> consumer;
  private boolean demand;
  private boolean closed; // the terminal event went out, or the consumer went away

  /** The consumer arrived and wants its first event. */
  void subscribe(ActorRef<TokenEvent> subscriber) {
    consumer = subscriber;
    demand = true;
  }

  boolean subscribed() {
    return consumer != null;
  }

  /** The consumer took the last event and wants the next. */
  void demand() {
    demand = true;
  }

  void add(TokenEvent event) {
    pending.add(event);
  }

  /** Drops what waits and queues {@code failure} alone: after an error nothing else is sent. */
  void replaceWith(TokenEvent.Failed failure) {
    pending.clear();
    pending.add(failure);
  }

  /** Whether the consumer waits for an event and none is queued: one made now goes out at once. */
  boolean wantsEvent() {
    return !closed && consumer != null && demand && pending.isEmpty();
  }

  /**
   * Sends the next event if the consumer wants one.
   *
   * @return whether the terminal event (a finish or a failure) has gone out, now or before
   */
  boolean deliver() {
    if (!closed && consumer != null && demand && !pending.isEmpty()) {
      TokenEvent event = pending.poll();
      consumer.tell(event);
      demand = false;
      closed = !(event instanceof TokenEvent.Tokens);
    }
    return closed;
  }

  /** The consumer went away (cancelled): nothing more is sent to it. */
  void close() {
    closed = true;
  }

  /** Tells a consumer still waiting that the session stopped, so no subscriber waits forever. */
  void abandon() {
    if (consumer != null && !closed) {
      consumer.tell(new TokenEvent.Failed("the session stopped"));
      closed = true;
    }
  }
}
