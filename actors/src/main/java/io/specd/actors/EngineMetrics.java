package io.specd.actors;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.specd.gpu.DeviceObserver;
import io.specd.policies.spec.FinishReason;
import io.specd.policies.spec.Outcome;
import java.util.Locale;

/**
 * The engine's Prometheus metrics, in their own registry (the HTTP layer exposes it at {@code
 * /metrics}): requests by outcome, generated tokens, drafts, draft and accepted tokens, accepted
 * tokens per draft position, the device's queue depth, batch sizes and live KV caches, and the
 * sessions decoding or waiting. Thread-safe.
 */
public final class EngineMetrics implements DeviceObserver {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter requests =
      Counter.builder()
          .name("specd_requests")
          .help("Requests finished, by finish reason (error for failures, rejected for 429s)")
          .labelNames("reason")
          .register(registry);
  private final Counter tokens =
      Counter.builder().name("specd_tokens").help("Tokens generated").register(registry);
  private final Counter drafts =
      Counter.builder()
          .name("specd_drafts")
          .help("Speculative steps that verified at least one draft token")
          .register(registry);
  private final Counter draftTokens =
      Counter.builder().name("specd_draft_tokens").help("Draft tokens verified").register(registry);
  private final Counter acceptedTokens =
      Counter.builder()
          .name("specd_accepted_tokens")
          .help("Draft tokens accepted")
          .register(registry);
  private final Counter acceptedPerPosition =
      Counter.builder()
          .name("specd_accepted_per_position")
          .help("Draft tokens accepted, by draft position (1 = first draft token)")
          .labelNames("position")
          .register(registry);
  private final Gauge queueDepth =
      Gauge.builder()
          .name("specd_queue_depth")
          .help("Requests waiting for the device's next batch")
          .register(registry);
  private final Histogram batchSizes =
      Histogram.builder()
          .name("specd_batch_size")
          .help("Requests per device batch, by kind (prefill, verify)")
          .labelNames("kind")
          .classicUpperBounds(1, 2, 4, 8, 16, 32, 64)
          .register(registry);
  private final Gauge liveSessions =
      Gauge.builder()
          .name("specd_live_sessions")
          .help("Sessions holding a KV cache on the device")
          .register(registry);
  private final Gauge activeSessions =
      Gauge.builder()
          .name("specd_active_sessions")
          .help("Session actors decoding")
          .register(registry);
  private final Gauge waitingRequests =
      Gauge.builder()
          .name("specd_waiting_requests")
          .help("Requests waiting in the admission queue for a session")
          .register(registry);

  /** The registry to expose. */
  public PrometheusRegistry registry() {
    return registry;
  }

  /** A request ended. */
  public void finished(FinishReason reason) {
    requests.labelValues(reason.name().toLowerCase(Locale.ROOT)).inc();
  }

  /** A request failed or was refused ({@code error}, {@code rejected}). */
  public void ended(String reason) {
    requests.labelValues(reason).inc();
  }

  /** Tokens were emitted. */
  public void emitted(int count) {
    tokens.inc(count);
  }

  /** A speculative step was verified. */
  public void stepped(Outcome outcome) {
    if (outcome.draftedNodes() > 0) {
      drafts.inc();
      draftTokens.inc(outcome.draftedNodes());
      acceptedTokens.inc(outcome.accepted());
      for (int p = 1; p <= outcome.accepted(); p++) {
        acceptedPerPosition.labelValues(Integer.toString(p)).inc();
      }
    }
  }

  /** Session actors running and requests waiting for one. */
  public void sessions(int active, int waiting) {
    activeSessions.set(active);
    waitingRequests.set(waiting);
  }

  @Override
  public void batchRan(String kind, int size, long nanos) {
    batchSizes.labelValues(kind).observe(size);
  }

  @Override
  public void queueDepth(int depth) {
    queueDepth.set(depth);
  }

  @Override
  public void liveSessions(int count) {
    liveSessions.set(count);
  }
}
