package io.specd.streams.http;

import akka.Done;
import io.specd.streams.SpecDecoding;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The generations running in the server, so that shutdown can let them finish, and end those that
 * do not in time with an error their clients see. Thread-safe: streams register as they start, from
 * any thread.
 */
final class InFlight {
  /** How long the generations failed at the deadline get to write their error and close. */
  private static final Duration FAREWELL = Duration.ofSeconds(1);

  private final Set<SpecDecoding.Control> running = ConcurrentHashMap.newKeySet();

  /** Tracks a generation until its stream ends. */
  void track(SpecDecoding.Control generation) {
    running.add(generation);
    generation.done().whenComplete((ok, error) -> running.remove(generation));
  }

  /**
   * Completes when every generation running now has ended. Those still running at the deadline are
   * failed with a 503 {@code server_shutting_down} error (an SSE error event and {@code [DONE]}, a
   * WebSocket error frame), which they get a second to write.
   */
  CompletionStage<Done> drained(Duration deadline) {
    return ended(List.copyOf(running), deadline)
        .thenCompose(
            allEnded -> {
              List<SpecDecoding.Control> late = List.copyOf(running);
              late.forEach(generation -> generation.fail(ApiError.shuttingDown()));
              return ended(late, FAREWELL);
            });
  }

  private static CompletionStage<Done> ended(
      List<SpecDecoding.Control> generations, Duration deadline) {
    return CompletableFuture.allOf(
            generations.stream()
                .map(generation -> generation.done().toCompletableFuture())
                .toArray(CompletableFuture<?>[]::new))
        .handle((ok, error) -> Done.getInstance())
        .completeOnTimeout(Done.getInstance(), deadline.toMillis(), TimeUnit.MILLISECONDS);
  }
}
