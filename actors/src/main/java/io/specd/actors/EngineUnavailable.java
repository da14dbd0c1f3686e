package io.specd.actors;

/** The engine refused a request because it cannot serve (its device is down for good). */
public final class EngineUnavailable extends RuntimeException {
  EngineUnavailable(String reason) {
    super("the engine cannot serve: " + reason, null, false, false);
  }
}
