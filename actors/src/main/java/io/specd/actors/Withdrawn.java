package io.specd.actors;

/** A request left the admission queue before it got a session: its caller went away. */
public final class Withdrawn extends RuntimeException {
  Withdrawn() {
    super("the request was withdrawn while it waited for a session", null, false, false);
  }
}
