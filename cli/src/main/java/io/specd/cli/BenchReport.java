package io.specd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.llama.LlamaModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;

/** What {@code specd bench} prints: a table for people, or one JSON object ({@code --json}). */
final class BenchReport {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Memory after a backend's warm-up.
   *
   * @param mappedBytes resident pages of the model file's memory mappings (the java backend reads
   *     weights in place)
   * @param heapBytes Java heap in use after a full collection (the whole process's)
   * @param processBytes the process's resident set
   */
  record BackendMemory(String backend, long mappedBytes, long heapBytes, long processBytes) {}

  private final PrintWriter out;
  private final boolean json;
  private final int maxTokens;
  private final int rounds;
  private final int topK;
  private final double topP;

  BenchReport(PrintWriter out, boolean json, int maxTokens, int rounds, int topK, double topP) {
    this.out = out;
    this.json = json;
    this.maxTokens = maxTokens;
    this.rounds = rounds;
    this.topK = topK;
    this.topP = topP;
  }

  /**
   * The drafter sweep: the model, each backend's memory after its warm-up, and every run.
   *
   * @param model the model measured (its first backend's copy)
   */
  void sweep(LlamaModel model, List<BackendMemory> memories, int promptCount, List<BenchRun> runs)
      throws IOException {
    if (json) {
      ObjectNode root = JSON.createObjectNode();
      root.put("model", model.source().getFileName().toString());
      root.put("model_file_bytes", Machine.sizeOf(model.source()));
      root.put("prompts", promptCount);
      root.put("max_tokens", maxTokens);
      root.put("rounds", rounds);
      root.put("top_k", topK); // of the sampled runs
      root.put("top_p", topP);
      root.set("machine", Machine.describe(JSON));
      ObjectNode memory = root.putObject("memory_after_warm_up");
      for (BackendMemory m : memories) {
        ObjectNode node = memory.putObject(m.backend());
        node.put("model_file_pages_resident_bytes", m.mappedBytes());
        node.put("heap_in_use_bytes", m.heapBytes());
        node.put("process_resident_bytes", m.processBytes());
      }
      ArrayNode array = root.putArray("runs");
      for (BenchRun run : runs) {
        ObjectNode r = array.addObject();
        r.put("backend", run.backend());
        r.put("drafter", run.drafter());
        r.put("policy", run.policy());
        r.put("temperature", run.temperature());
        r.put("tokens_per_second", run.tokensPerSecond());
        r.put("decode_tokens_per_second", run.decodeTokensPerSecond());
        r.put("mean_accepted", run.meanAccepted());
        r.put("acceptance_rate", run.acceptanceRate());
        double speedup = speedup(run, runs);
        if (Double.isNaN(speedup)) { // no plain decoding in the run to compare with
          r.putNull("speedup_vs_baseline");
        } else {
          r.put("speedup_vs_baseline", speedup);
        }
        ArrayNode depths = r.putArray("acceptance_per_depth");
        Arrays.stream(run.acceptanceByDepth()).forEach(depths::add);
        r.put("ops_per_step", run.opsPerStep());
        double[] micros = run.stageMicros();
        ObjectNode stageTimes = r.putObject("step_micros");
        stageTimes.put("propose", micros[0]);
        stageTimes.put("verify", micros[1]);
        stageTimes.put("accept", micros[2]);
        stageTimes.put("commit", micros[3]);
        r.put("generated_tokens", run.tokens());
        r.put("steps", run.steps());
        r.put("seconds", run.nanos() / 1e9);
      }
      out.println(JSON.writeValueAsString(root));
    } else {
      out.printf(
          "model %s (dim %d, %d layers, %.1f MiB), %d prompts x %d tokens%n",
          model.source().getFileName(),
          model.config().dim(),
          model.config().layerCount(),
          Machine.sizeOf(model.source()) / 1048576.0,
          promptCount,
          maxTokens);
      for (BackendMemory m : memories) {
        out.printf(
            "%s backend after warm-up: model file pages resident %.1f MiB, Java heap in use %.1f"
                + " MiB, process resident %.1f MiB%n",
            m.backend(),
            m.mappedBytes() / 1048576.0,
            m.heapBytes() / 1048576.0,
            m.processBytes() / 1048576.0);
      }
      out.printf(
          "%-6s %-13s %-11s %5s %10s %10s %9s %8s %6s %6s  %-24s %s%n",
          "backend",
          "drafter",
          "policy",
          "temp",
          "tokens/s",
          "decode/s",
          "speedup",
          "accepted",
          "rate",
          "ops",
          "us/step: prop ver acc com",
          "acceptance per depth");
      for (BenchRun run : runs) {
        StringBuilder depths = new StringBuilder();
        for (double rate : run.acceptanceByDepth()) {
          depths.append(String.format("%.2f ", rate));
        }
        double[] micros = run.stageMicros();
        out.printf(
            "%-6s %-13s %-11s %5.2f %10.1f %10.1f %9s %8.2f %6.2f %6.0f  %5.0f %5.0f %5.0f %5.0f"
                + "   %s%n",
            run.backend(),
            run.drafter(),
            run.policy(),
            run.temperature(),
            run.tokensPerSecond(),
            run.decodeTokensPerSecond(),
            speedupText(speedup(run, runs)),
            run.meanAccepted(),
            run.acceptanceRate(),
            run.opsPerStep(),
            micros[0],
            micros[1],
            micros[2],
            micros[3],
            depths.toString().trim());
      }
    }
    out.flush();
  }

  /** A speedup as the table shows it: {@code 1.23x}, or {@code -} without plain decoding. */
  private static String speedupText(double speedup) {
    return Double.isNaN(speedup) ? "-" : String.format("%.2fx", speedup);
  }

  /**
   * A run's tokens/s over plain decoding's on the same backend at the same temperature (NaN if that
   * was not run).
   */
  private static double speedup(BenchRun run, List<BenchRun> runs) {
    return runs.stream()
        .filter(r -> r.backend().equals(run.backend()))
        .filter(r -> r.drafter().equals(DecodingOptions.NONE))
        .filter(r -> r.temperature() == run.temperature())
        .findFirst()
        .map(baseline -> run.tokensPerSecond() / baseline.tokensPerSecond())
        .orElse(Double.NaN);
  }

  /** The concurrency sweep: tokens/s and latency per load, against one session. */
  void concurrency(List<ConcurrencyBench.Load> loads) {
    if (json) {
      ObjectNode root = JSON.createObjectNode();
      root.put("max_tokens", maxTokens);
      root.set("machine", Machine.describe(JSON));
      ArrayNode rows = root.putArray("concurrency");
      for (ConcurrencyBench.Load load : loads) {
        ObjectNode row = rows.addObject();
        row.put("drafter", load.drafter());
        row.put("policy", load.policy());
        row.put("batching", load.batching());
        row.put("concurrency", load.concurrency());
        row.put("requests", load.requests());
        row.put("tokens", load.tokens());
        row.put("tokens_per_second", load.tokensPerSecond());
        row.put("vs_single_session", load.tokensPerSecond() / single(load, loads));
        row.put("p50_ms_between_tokens", load.p50Millis());
        row.put("p99_ms_between_tokens", load.p99Millis());
        row.put("p50_ms_to_first_token", load.firstTokenP50Millis());
        row.put("p99_ms_to_first_token", load.firstTokenP99Millis());
      }
      out.println(root.toPrettyString());
    } else {
      out.printf(
          "%-13s %-12s %-9s %11s %9s %10s %8s %8s %9s %9s%n",
          "drafter",
          "policy",
          "batching",
          "concurrency",
          "tokens/s",
          "vs 1",
          "p50 ms",
          "p99 ms",
          "ttft p50",
          "ttft p99");
      for (ConcurrencyBench.Load load : loads) {
        out.printf(
            "%-13s %-12s %-9s %11d %9.0f %9.2fx %8.2f %8.2f %9.2f %9.2f%n",
            load.drafter(),
            load.policy(),
            load.batching() ? "on" : "off",
            load.concurrency(),
            load.tokensPerSecond(),
            load.tokensPerSecond() / single(load, loads),
            load.p50Millis(),
            load.p99Millis(),
            load.firstTokenP50Millis(),
            load.firstTokenP99Millis());
      }
    }
    out.flush();
  }

  /**
   * The single-session tokens/s of a load's drafter, policy and batching mode (the load's own when
   * not measured).
   */
  private static double single(ConcurrencyBench.Load load, List<ConcurrencyBench.Load> loads) {
    return loads.stream()
        .filter(
            l ->
                l.drafter().equals(load.drafter())
                    && l.policy().equals(load.policy())
                    && l.batching() == load.batching()
                    && l.concurrency() == 1)
        .mapToDouble(ConcurrencyBench.Load::tokensPerSecond)
        .findFirst()
        .orElse(load.tokensPerSecond());
  }

  /**
   * One backend's target-forward costs.
   *
   * @param promptTokens the prompt the forwards continue
   * @param costs the first is a decoding step (one token)
   */
  record ForwardCostsOn(
      String backend, String model, int promptTokens, List<ForwardCosts.Cost> costs) {}

  /** The cost of verifying K tokens against one decoding step, per backend. */
  void forwardCosts(List<ForwardCostsOn> measured) {
    ObjectNode root = JSON.createObjectNode();
    root.set("machine", Machine.describe(JSON));
    ArrayNode rows = root.putArray("forward_costs");
    for (ForwardCostsOn on : measured) {
      List<ForwardCosts.Cost> costs = on.costs();
      root.put("model", on.model());
      double decode = costs.get(0).nanos();
      if (!json) {
        out.printf(
            "%s backend, %s after a %d-token prompt:%n%6s %12s %12s %14s%n",
            on.backend(),
            on.model(),
            on.promptTokens(),
            "tokens",
            "ms/forward",
            "x decode",
            "ms per token");
      }
      for (ForwardCosts.Cost cost : costs) {
        ObjectNode row = rows.addObject();
        row.put("backend", on.backend());
        row.put("tokens", cost.tokens());
        row.put("millis", cost.nanos() / 1e6);
        row.put("vs_decode_step", cost.nanos() / decode);
        if (!json) {
          out.printf(
              "%6d %12.3f %11.2fx %14.3f%n",
              cost.tokens(),
              cost.nanos() / 1e6,
              cost.nanos() / decode,
              cost.nanos() / 1e6 / cost.tokens());
        }
      }
    }
    if (json) {
      out.println(root.toPrettyString());
    }
    out.flush();
  }
}
