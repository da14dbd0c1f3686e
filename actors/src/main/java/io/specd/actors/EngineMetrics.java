package io.specd.actors;

import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.specd.gpu.DeviceObserver;
import io.specd.policies.spec.FinishReason;
import io.specd.policies.spec.Outcome;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The engine's Prometheus metrics, in their own registry (the HTTP layer exposes it at {@code
 * /metrics}): requests by {@code finish_reason} (the API's values, plus {@code error} and {@code
 * rejected}), generated tokens, drafts, draft and accepted tokens, accepted tokens per draft
 * position, the device's queue depth, batch sizes, step times and live sessions (KV caches), the
 * requests waiting for a session, and per drafter and policy the histograms of time to first token,
 * time between tokens, request duration and tokens committed per step. Thread-safe.
 */
public final class EngineMetrics implements DeviceObserver {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter requests =
      Counter.builder()
          .name("specd_requests")
          .help(
              "Requests ended, by finish_reason: stop, length, cancelled, error (failures),"
                  + " rejected (429s)")
          .labelNames("finish_reason")
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
          .help("Prompts waiting for their prefill and sessions waiting for a step, after a round")
          .register(registry);
  // the device observes these two after every step: classic buckets alone (the text format shows
  // no others) and no exemplars (there are no traces to link), which took ~1% of a 25 µs step
  private final Histogram batchSizes =
      Histogram.builder()
          .name("specd_batch_size")
          .help("Requests per device batch, by kind (prefill, verify)")
          .labelNames("kind")
          .classicUpperBounds(1, 2, 4, 8, 16, 32, 64)
          .classicOnly()
          .withoutExemplars()
          .register(registry);
  private final Gauge liveSessions =
      Gauge.builder()
          .name("specd_live_sessions")
          .help("Sessions holding a KV cache on the device")
          .register(registry);
  private final Gauge stepCost =
      Gauge.builder()
          .name("specd_step_cost_seconds")
          .help(
              "The device's fitted cost of a verification step: fixed, plus per_token times the"
                  + " tokens the batch verifies")
          .labelNames("term")
          .register(registry);
  private final Gauge stepCostCurve =
      Gauge.builder()
          .name("specd_step_cost_curve_seconds")
          .help(
              "The device's measured time of a verification step by the tokens the batch"
                  + " verifies, interpolated between the sizes it has run")
          .labelNames("tokens")
          .register(registry);
  private final Histogram stepSeconds =
      Histogram.builder()
          .name("specd_step_seconds")
          .help("Device batch time, by kind (prefill, verify)")
          .labelNames("kind")
          .classicOnly()
          .withoutExemplars()
          .register(registry);
  // the device's series, looked up once: a label lookup allocates its key on every call, and the
  // device reports after every step
  private final GaugeDataPoint fixedStepCost = stepCost.labelValues("fixed");
  private final GaugeDataPoint perTokenStepCost = stepCost.labelValues("per_token");
  private final Map<Integer, GaugeDataPoint> stepCostByTokens = new ConcurrentHashMap<>();
  private final Map<String, BatchSeries> batchSeries = new ConcurrentHashMap<>();
  private final Histogram timeToFirstToken =
      Histogram.builder()
          .name("specd_time_to_first_token_seconds")
          .help("From a session's start (after admission) to its first token")
          .labelNames("drafter", "policy")
          .register(registry);
  private final Histogram timeBetweenTokens =
      Histogram.builder()
          .name("specd_time_between_tokens_seconds")
          .help("Between a session's emitted tokens (a step's tokens share its time)")
          .labelNames("drafter", "policy")
          .register(registry);
  private final Histogram requestSeconds =
      Histogram.builder()
          .name("specd_request_duration_seconds")
          .help("From a session's start to its end, whatever the outcome")
          .labelNames("drafter", "policy")
          .register(registry);
  private final Histogram acceptedLength =
      Histogram.builder()
          .name("specd_accepted_length")
          .help("Tokens committed per speculative step, counting the target's own")
          .labelNames("drafter", "policy")
          .classicUpperBounds(1, 2, 3, 4, 5, 6, 8, 12, 16)
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
    requests.labelValues(reason.openAiName()).inc();
  }

  /** A request failed or was refused ({@code error}, {@code rejected}). */
  public void ended(String reason) {
    requests.labelValues(reason).inc();
  }

  /** The metrics of one session, labelled by its drafter and policy. */
  SessionMetrics session(String drafter, String policy) {
    return new SessionMetrics(drafter, policy);
  }

  /** What a session records: its latencies and its steps (not thread-safe: one actor's). */
  final class SessionMetrics {
    private final DistributionDataPoint firstToken;
    private final DistributionDataPoint betweenTokens;
    private final DistributionDataPoint duration;
    private final DistributionDataPoint committedPerStep;
    private boolean emittedBefore; // a session's metrics are used by its actor only

    private SessionMetrics(String drafter, String policy) {
      firstToken = timeToFirstToken.labelValues(drafter, policy);
      betweenTokens = timeBetweenTokens.labelValues(drafter, policy);
      duration = requestSeconds.labelValues(drafter, policy);
      committedPerStep = acceptedLength.labelValues(drafter, policy);
    }

    /** The first token came {@code nanos} after the session started. */
    void firstToken(long nanos) {
      firstToken.observe(nanos / 1e9);
    }

    /**
     * {@code count} tokens came {@code nanos} after the previous ones (the first emission, the
     * prefill's token, is timed as the first token instead).
     */
    void emitted(int count, long nanos) {
      tokens.inc(count);
      if (!emittedBefore) {
        emittedBefore = true;
        return;
      }
      for (int i = 0; i < count; i++) {
        betweenTokens.observe(nanos / 1e9 / count);
      }
    }

    /** A speculative step was verified. */
    void stepped(Outcome outcome) {
      committedPerStep.observe(outcome.accepted() + 1);
      if (outcome.draftedNodes() > 0) {
        drafts.inc();
        draftTokens.inc(outcome.draftedNodes());
        acceptedTokens.inc(outcome.accepted());
        for (int p = 1; p <= outcome.accepted(); p++) {
          acceptedPerPosition.labelValues(Integer.toString(p)).inc();
        }
      }
    }

    /** The session ended {@code nanos} after it started. */
    void ended(long nanos) {
      duration.observe(nanos / 1e9);
    }
  }

  /** Requests waiting for a session. */
  public void waiting(int count) {
    waitingRequests.set(count);
  }

  @Override
  public void batchRan(String kind, int size, long nanos) {
    BatchSeries series = batchSeries.get(kind);
    if (series == null) {
      series = new BatchSeries(batchSizes.labelValues(kind), stepSeconds.labelValues(kind));
      batchSeries.put(kind, series);
    }
    series.sizes().observe(size);
    series.seconds().observe(nanos / 1e9);
  }

  @Override
  public void stepCosts(double fixedSeconds, double secondsPerToken) {
    fixedStepCost.set(fixedSeconds);
    perTokenStepCost.set(secondsPerToken);
  }

  @Override
  public void stepCost(int tokens, double seconds) {
    GaugeDataPoint point = stepCostByTokens.get(tokens);
    if (point == null) {
      point = stepCostCurve.labelValues(Integer.toString(tokens));
      stepCostByTokens.put(tokens, point);
    }
    point.set(seconds);
  }

  /** A kind of batch's series: its sizes and its times. */
  private record BatchSeries(DistributionDataPoint sizes, DistributionDataPoint seconds) {}

  @Override
  public void queueDepth(int depth) {
    queueDepth.set(depth);
  }

  @Override
  public void liveSessions(int count) {
    liveSessions.set(count);
  }
}
