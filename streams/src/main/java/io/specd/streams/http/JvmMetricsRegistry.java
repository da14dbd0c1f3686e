package io.specd.streams.http;

import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The process's JVM metrics (heap and memory pools, bytes allocated per pool, garbage collections,
 * JIT compilation time, threads, classes, buffer pools), registered once per process however many
 * servers it runs: their collectors listen to the JVM's garbage collectors, and a registration per
 * engine would stack listeners. {@code /metrics} serves them after the engine's.
 */
final class JvmMetricsRegistry {
  private static final PrometheusRegistry REGISTRY = new PrometheusRegistry();

  static {
    JvmMetrics.builder().register(REGISTRY);
  }

  private JvmMetricsRegistry() {}

  static PrometheusRegistry get() {
    return REGISTRY;
  }
}
