package io.specd.streams.http;

import akka.Done;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The generations running in the server, so that shutdown can let them finish. Thread-safe: streams
 * register as they start, from any thread.
 */
final class InFlight {
  private final Set<CompletableFuture<Done>> running = ConcurrentHashMap.newKeySet();

  /** Tracks a generation until its stream ends. */
  void track(CompletionStage<Done> done) {
    CompletableFuture<Done> future = done.toCompletableFuture();
    running.add(future);
    future.whenComplete((ok, error) -> running.remove(future));
  }

  /** Generations running now. */
  int count() {
    return running.size();
  }

  /** Completes when every generation running now has ended, or after the deadline. */
  CompletionStage<Done> drained(Duration deadline) {
    return CompletableFuture.allOf(running.toArray(new CompletableFuture<?>[0]))
        .handle((ok, error) -> Done.getInstance())
        .completeOnTimeout(Done.getInstance(), deadline.toMillis(), TimeUnit.MILLISECONDS);
  }
}
