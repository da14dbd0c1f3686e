package io.specd.actors;

/** The engine refused a request: every session is busy and the admission queue is full. */
public final class EngineOverloaded extends RuntimeException {
  EngineOverloaded(int active, int waiting) {
    super(
        "the server is at capacity ("
            + active
            + " requests decoding, "
            + waiting
            + " waiting); retry later");
  }
}
