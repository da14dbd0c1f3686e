package io.specd.streams.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.specd.kernels.SystemTools;
import io.specd.kernels.store.ModelStore;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /metrics} after real requests: the API's names, the latency histograms, lint-clean. */
class MetricsTest {
  private static TestServer server;
  private static String metrics;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start("", true);
    server.post(
        "/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 12, \"temperature\": 0}");
    server.post(
        "/v1/completions",
        "{\"prompt\": \"Once\", \"max_tokens\": 4, \"policy\": \"none\", \"stop\": [\"xyz\"]}");
    metrics = server.get("/metrics").body();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void requestsShouldBeCountedByTheApisFinishReason() {
    assertThat(metrics)
        .contains("specd_requests_total{finish_reason=\"length\"} 2.0")
        .doesNotContain("reason=\"max_tokens\"")
        .doesNotContain("specd_active_sessions")
        .contains("specd_live_sessions 0.0");
  }

  @Test
  void latenciesShouldBeHistogramsByDrafterAndPolicy() {
    for (String perRequest :
        new String[] {"specd_time_to_first_token_seconds", "specd_request_duration_seconds"}) {
      assertThat(metrics)
          .contains(perRequest + "_count{drafter=\"clover\",policy=\"none\"} 1")
          .contains(perRequest + "_count{drafter=\"clover\",policy=\"static-3\"} 1");
    }
    // one observation per token after the first
    assertThat(metrics)
        .contains("specd_time_between_tokens_seconds_count{drafter=\"clover\",policy=\"none\"} 3");
    assertThat(metrics)
        .contains(
            "specd_time_between_tokens_seconds_count{drafter=\"clover\",policy=\"static-3\"} 11")
        .contains("specd_accepted_length_bucket{drafter=\"clover\",policy=\"static-3\",le=\"1.0\"}")
        .contains("specd_step_seconds_count{kind=\"prefill\"} 2")
        .contains("specd_step_seconds_count{kind=\"verify\"}")
        .contains("specd_step_cost_seconds{term=\"fixed\"}")
        .contains("specd_step_cost_seconds{term=\"per_token\"}")
        .contains("specd_step_cost_curve_seconds{tokens=\"1\"}")
        .contains("specd_step_cost_curve_seconds{tokens=\"16\"}");
  }

  /**
   * What an operator watches of any JVM service: heap, garbage collection, JIT compilation time,
   * threads, resident memory (a kernel that fell back to the Vector API's allocating Java code
   * shows first as a jump in allocation and collections).
   */
  @Test
  void theJvmsAndTheProcesssMetricsShouldBeServedOnce() {
    for (String name :
        new String[] {
          "jvm_memory_used_bytes{area=\"heap\"}",
          "jvm_gc_collection_seconds_count{",
          "jvm_compilation_time_seconds_total ",
          "jvm_threads_current ",
          "process_resident_memory_bytes ",
          "process_cpu_seconds_total "
        }) {
      assertThat(metrics).as(name).contains("\n" + name);
    }
    assertThat(metrics.split("# TYPE jvm_memory_used_bytes ", -1)).hasSize(2);
  }

  @Test
  void promtoolShouldFindNothingToLint() throws IOException, InterruptedException {
    Path promtool = promtool();
    Process check = new ProcessBuilder(promtool.toString(), "check", "metrics").start();
    try (OutputStream in = check.getOutputStream()) {
      in.write(metrics.getBytes(StandardCharsets.UTF_8));
    }
    assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String report =
        new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
            + new String(check.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(report).isEmpty();
    assertThat(check.exitValue()).isZero();
  }

  @Test
  void theGrafanaDashboardShouldQueryOnlyMetricsTheServerExposes()
      throws IOException, InterruptedException {
    Path dashboard =
        ModelStore.checkoutAbove(Path.of("")).orElseThrow().resolve("docs/grafana-dashboard.json");
    List<String> queries = new ArrayList<>();
    for (JsonNode panel : TestServer.JSON.readTree(dashboard.toFile()).path("panels")) {
      panel.path("targets").forEach(target -> queries.add(target.path("expr").asText()));
    }
    assertThat(queries).hasSizeGreaterThan(10);
    Matcher names = Pattern.compile("specd_[a-z_]+").matcher(String.join("\n", queries));
    while (names.find()) {
      assertThat(metrics).as("a sample of " + names.group()).contains("\n" + names.group());
    }
    Path promtool = promtool();
    StringBuilder rules = new StringBuilder("groups:\n- name: dashboard\n  rules:\n");
    for (int i = 0; i < queries.size(); i++) {
      rules
          .append("  - record: dashboard:query")
          .append(i)
          .append("\n    expr: '")
          .append(queries.get(i).replace("$__rate_interval", "5m").replace("'", "''"))
          .append("'\n");
    }
    Path file = Files.writeString(Files.createTempFile("dashboard", ".rules.yml"), rules);
    Process check =
        new ProcessBuilder(promtool.toString(), "check", "rules", file.toString())
            .redirectErrorStream(true)
            .start();
    String report = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(check.exitValue()).as(report).isZero();
  }

  private static Path promtool() {
    return SystemTools.onPath("promtool", "install the Debian package prometheus (.ci/run does)");
  }
}
