package io.specd.actors;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Whether the engine can serve: it cannot once its device actor has stopped for good. Written by
 * the engine's guardian, read by anyone. Thread-safe.
 */
public final class EngineHealth {
  private final AtomicReference<String> problem = new AtomicReference<>();

  /** Why the engine cannot serve, or empty when it can. */
  public Optional<String> problem() {
    return Optional.ofNullable(problem.get());
  }

  /** The engine cannot serve any more. */
  void failed(String reason) {
    problem.compareAndSet(null, reason);
  }
}
