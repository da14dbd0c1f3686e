package io.specd.streams.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.generate.Decoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.heads.DrafterSpec;
import io.specd.kernels.heads.medusa.MedusaDrafter;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.torch.OpProfile;
import io.specd.kernels.torch.TorchBackend;
import io.specd.policies.spec.DecodeStats;
import io.specd.policies.spec.SamplingParams;
import io.specd.policies.spec.StageTimes;
import io.specd.streams.EngineLoader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code specd bench}: measures decoding speed on a prompt set in one run. Speed is a ratio between
 * runs of the same process on the same prompts; absolute figures vary with the machine.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Measure plain decoding and every drafter and policy on the same prompts, greedy and"
            + " sampled.")
final class BenchCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;
  @Mixin ModelOptions modelOptions;

  @Option(
      names = "--prompts",
      paramLabel = "FILE",
      description = "Prompts, one a line (default: a built-in set of 12 story openings).")
  Path prompts;

  @Option(
      names = "--max-tokens",
      paramLabel = "N",
      defaultValue = "128",
      description = "Tokens to generate per prompt (default: ${DEFAULT-VALUE}).")
  int maxTokens;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      defaultValue = "3",
      description =
          "Untimed generations before measuring, to warm up the JIT (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--drafters",
      paramLabel = "LIST",
      split = ",",
      description =
          "Drafters to measure (default: none and every drafter whose heads ship for the model).")
  List<String> drafters;

  @Option(
      names = "--heads",
      paramLabel = "KIND=FILE",
      description = "Heads of a drafter (default: those shipped for the model); repeatable.")
  Map<String, Path> heads = new HashMap<>();

  @Option(
      names = "--policies",
      paramLabel = "LIST",
      split = ",",
      description = "Draft policies to measure per drafter (default: each drafter's default).")
  List<String> policies;

  @Option(
      names = "--temperatures",
      paramLabel = "LIST",
      split = ",",
      defaultValue = "0,0.8",
      description =
          "Sampling temperatures; 0 is greedy. Prompt i samples with seed i (default:"
              + " ${DEFAULT-VALUE}).")
  List<Double> temperatures;

  @Option(
      names = "--rounds",
      paramLabel = "N",
      defaultValue = "3",
      description =
          "Measurements of each configuration, interleaved; the fastest counts (default:"
              + " ${DEFAULT-VALUE}).")
  int rounds;

  @Option(
      names = "--concurrency",
      paramLabel = "LIST",
      split = ",",
      description =
          "Instead of the drafter sweep: stream this many requests at once through the engine"
              + " (e.g. 1,4,16), with verification batching on and off, for the first of"
              + " --drafters (default: the default drafter).")
  List<Integer> concurrency;

  @Option(
      names = "--forward-costs",
      paramLabel = "LIST",
      split = ",",
      description =
          "Instead of the drafter sweep: time target forwards over this many new tokens (e.g."
              + " 1,2,4,8,16), the cost of verifying K tokens against one decoding step.")
  List<Integer> forwardCosts;

  @Option(
      names = "--plot",
      paramLabel = "FILE.png",
      description = "Also draw tokens/s against draft length, adaptive policies marked, as a PNG.")
  Path plot;

  @Option(
      names = "--backends",
      paramLabel = "LIST",
      split = ",",
      description =
          "Backends to measure, each on its own copy of the model, interleaved in one run (e.g."
              + " java,torch; default: --backend, else this machine's).")
  List<String> backends;

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  boolean json;

  /**
   * One backend's model and the decoders measured on it.
   *
   * @param memory what the model holds, measured after the warm-up has read every weight
   */
  private record Setup(
      String backend,
      LlamaModel model,
      KvCachePool pool,
      List<LoadedDecoder> decoders,
      double[] opsPerStep,
      Memory memory)
      implements AutoCloseable {
    @Override
    public void close() {
      decoders.forEach(LoadedDecoder::close);
      pool.close();
      model.close();
    }
  }

  /**
   * Memory after a backend's warm-up.
   *
   * @param mappedBytes resident pages of the model file's memory mappings (the java backend reads
   *     weights in place)
   * @param heapBytes Java heap in use after a full collection (the whole process's)
   * @param processBytes the process's resident set
   */
  private record Memory(long mappedBytes, long heapBytes, long processBytes) {}

  /** One measured configuration, summed over the prompts. */
  record Run(
      String backend,
      String drafter,
      String policy,
      double temperature,
      long tokens,
      long nanos,
      long steps,
      long committedBySteps,
      long drafted,
      long accepted,
      long[] acceptedPerDepth,
      long[] draftedPerDepth,
      StageTimes stages,
      double opsPerStep) {
    double tokensPerSecond() {
      return tokens * 1e9 / nanos;
    }

    /** Tokens committed per target forward after the prefill, counting the bonus token. */
    double meanAccepted() {
      return steps == 0 ? 1.0 : (double) committedBySteps / steps;
    }

    /** Microseconds per step in each stage: propose, verify, accept, commit. */
    double[] stageMicros() {
      double per = Math.max(1, steps) * 1e3;
      return new double[] {
        stages.propose() / per, stages.verify() / per, stages.accept() / per, stages.commit() / per
      };
    }

    double acceptanceRate() {
      return drafted == 0 ? 0.0 : (double) accepted / drafted;
    }

    double[] acceptanceByDepth() {
      double[] rates = new double[draftedPerDepth.length];
      for (int d = 0; d < rates.length; d++) {
        rates[d] = draftedPerDepth[d] == 0 ? 0 : (double) acceptedPerDepth[d] / draftedPerDepth[d];
      }
      return rates;
    }
  }

  @Override
  public Integer call() throws Exception {
    List<String> promptTexts = readPrompts();
    if (concurrency != null) {
      return concurrencyBench(promptTexts);
    }
    List<String> backendNames =
        backends != null ? backends : java.util.Collections.singletonList(modelOptions.backend);
    if (forwardCosts != null) {
      return forwardCostBench(backendNames, promptTexts.get(0));
    }
    List<Setup> setups = new ArrayList<>();
    try {
      for (String backend : backendNames) {
        setups.add(setUp(backend, promptTexts));
      }
      LlamaModel model = setups.get(0).model();
      List<int[]> promptTokens =
          promptTexts.stream().map(p -> model.tokenizer().encodePrompt(p)).toList();
      List<LoadedDecoder> decoders = new ArrayList<>();
      List<String> decoderBackends = new ArrayList<>();
      List<Double> ops = new ArrayList<>();
      for (Setup setup : setups) {
        decoders.addAll(setup.decoders());
        setup.decoders().forEach(d -> decoderBackends.add(setup.backend()));
        Arrays.stream(setup.opsPerStep()).forEach(ops::add);
      }
      // every round measures every configuration once, interleaved, so that a slow spell of
      // the machine hits all of them; each keeps its fastest round
      Run[][] best = new Run[decoders.size()][temperatures.size()];
      long generations =
          (long) rounds * decoders.size() * temperatures.size() * promptTokens.size();
      try (ProgressBar bar = ProgressBars.of("bench", generations)) {
        for (int round = 0; round < rounds; round++) {
          for (int d = 0; d < decoders.size(); d++) {
            for (int t = 0; t < temperatures.size(); t++) {
              String where =
                  String.format(
                      Locale.ROOT,
                      "round %d/%d, %s %s/%s T=%s",
                      round + 1,
                      rounds,
                      decoderBackends.get(d),
                      decoders.get(d).decoder().name(),
                      decoders.get(d).policy(),
                      temperatures.get(t));
              Run run =
                  measure(
                      decoderBackends.get(d),
                      decoders.get(d),
                      promptTokens,
                      temperatures.get(t),
                      ops.get(d),
                      prompt -> {
                        bar.setExtraMessage(
                            where + ", prompt " + (prompt + 1) + "/" + promptTokens.size());
                        bar.step();
                      });
              if (best[d][t] == null || run.nanos() < best[d][t].nanos()) {
                best[d][t] = run;
              }
            }
          }
        }
      }
      List<Run> runs = new ArrayList<>();
      Arrays.stream(best).forEach(row -> runs.addAll(List.of(row)));
      report(setups, promptTexts.size(), runs);
      if (plot != null) {
        BenchPlot.write(
            runs.stream()
                .map(
                    r ->
                        new BenchPlot.Point(
                            r.drafter(), r.policy(), r.temperature(), r.tokensPerSecond()))
                .toList(),
            plot);
      }
    } finally {
      setups.forEach(Setup::close);
    }
    return 0;
  }

  /**
   * Loads the model on a backend with every configuration to measure, warmed up (and, on torch,
   * with PyTorch's ops per step counted).
   *
   * @param backend a backend name, or null for this machine's default
   */
  private Setup setUp(String backend, List<String> promptTexts) throws IOException {
    LlamaModel model = modelOptions.load(backend);
    List<LoadedDecoder> decoders = new ArrayList<>();
    KvCachePool pool = null;
    try {
      List<int[]> promptTokens =
          promptTexts.stream().map(p -> model.tokenizer().encodePrompt(p)).toList();
      int longest = promptTokens.stream().mapToInt(p -> p.length).max().orElse(1);
      pool = model.newCachePool(1, Math.min(model.config().contextLength(), longest + maxTokens));
      for (String drafter : drafterNames(model)) {
        for (String policy : policiesOf(drafter)) {
          decoders.add(load(model, pool, drafter, policy));
        }
      }
      double[] ops = new double[decoders.size()];
      for (int d = 0; d < decoders.size(); d++) {
        warmUp(decoders.get(d).decoder(), promptTokens.get(0));
        if (model.backend() instanceof TorchBackend) { // ops are PyTorch's: none on java
          ops[d] = opsPerStep(decoders.get(d).decoder(), promptTokens.get(0));
        }
      }
      // after the warm-up every weight page has been read: what the model (and its drafters) hold
      Memory memory =
          new Memory(
              Machine.mappedResidentBytes(model.source()),
              Machine.heapInUseBytes(),
              Machine.residentBytes());
      return new Setup(model.backend().name(), model, pool, decoders, ops, memory);
    } catch (IOException | RuntimeException e) {
      decoders.forEach(LoadedDecoder::close);
      if (pool != null) {
        pool.close();
      }
      model.close();
      throw e;
    }
  }

  private int concurrencyBench(List<String> promptTexts) {
    String drafter = drafters == null ? null : drafters.get(0);
    ConcurrencyBench bench =
        new ConcurrencyBench(
            () -> {
              try {
                return modelOptions.load();
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            drafter,
            maxTokens,
            promptTexts,
            rounds);
    List<ConcurrencyBench.Load> loads = bench.measure(concurrency);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode root = JSON.createObjectNode();
      root.put("max_tokens", maxTokens);
      root.set("machine", Machine.describe(JSON));
      ArrayNode rows = root.putArray("concurrency");
      for (ConcurrencyBench.Load load : loads) {
        ObjectNode row = rows.addObject();
        row.put("drafter", load.drafter());
        row.put("batching", load.batching());
        row.put("concurrency", load.concurrency());
        row.put("requests", load.requests());
        row.put("tokens", load.tokens());
        row.put("tokens_per_second", load.tokensPerSecond());
        row.put("vs_single_session", load.tokensPerSecond() / single(load, loads));
        row.put("p50_ms_between_tokens", load.p50Millis());
        row.put("p99_ms_between_tokens", load.p99Millis());
      }
      out.println(root.toPrettyString());
    } else {
      out.printf(
          "%-13s %-9s %11s %9s %10s %8s %8s%n",
          "drafter", "batching", "concurrency", "tokens/s", "vs 1", "p50 ms", "p99 ms");
      for (ConcurrencyBench.Load load : loads) {
        out.printf(
            "%-13s %-9s %11d %9.0f %9.2fx %8.2f %8.2f%n",
            load.drafter(),
            load.batching() ? "on" : "off",
            load.concurrency(),
            load.tokensPerSecond(),
            load.tokensPerSecond() / single(load, loads),
            load.p50Millis(),
            load.p99Millis());
      }
    }
    out.flush();
    return 0;
  }

  private int forwardCostBench(List<String> backendNames, String prompt) throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    ObjectNode root = JSON.createObjectNode();
    root.set("machine", Machine.describe(JSON));
    ArrayNode rows = root.putArray("forward_costs");
    for (String backend : backendNames) {
      try (LlamaModel model = modelOptions.load(backend)) {
        int[] tokens = model.tokenizer().encodePrompt(prompt);
        List<ForwardCosts.Cost> costs = ForwardCosts.measure(model, tokens, forwardCosts);
        root.put("model", model.source().getFileName().toString());
        double decode = costs.get(0).nanos();
        if (!json) {
          out.printf(
              "%s backend, %s after a %d-token prompt:%n%6s %12s %12s %14s%n",
              model.backend().name(),
              model.source().getFileName(),
              tokens.length,
              "tokens",
              "ms/forward",
              "x decode",
              "ms per token");
        }
        for (ForwardCosts.Cost cost : costs) {
          ObjectNode row = rows.addObject();
          row.put("backend", model.backend().name());
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
    }
    if (json) {
      out.println(root.toPrettyString());
    }
    out.flush();
    return 0;
  }

  /** The single-session tokens/s of a load's batching mode (the load's own when not measured). */
  private static double single(ConcurrencyBench.Load load, List<ConcurrencyBench.Load> loads) {
    return loads.stream()
        .filter(l -> l.batching() == load.batching() && l.concurrency() == 1)
        .mapToDouble(ConcurrencyBench.Load::tokensPerSecond)
        .findFirst()
        .orElse(load.tokensPerSecond());
  }

  /** The drafters to measure: as asked, else plain decoding and every drafter with heads. */
  private List<String> drafterNames(LlamaModel model) {
    if (drafters != null) {
      return drafters;
    }
    List<String> names = new ArrayList<>(List.of(DecodingOptions.NONE));
    for (DrafterKind kind : DrafterKind.values()) {
      Optional<Path> checkpoint = EngineLoader.heads(kind, model, heads.get(kind.id()));
      if (checkpoint.isPresent()) {
        names.add(kind.id());
        if (kind == DrafterKind.MEDUSA && MedusaDrafter.refinable(checkpoint.get())) {
          names.add(new DrafterSpec(kind, true).id());
        }
      }
    }
    return names;
  }

  /** The policies to measure a drafter with (null: its default). */
  private List<String> policiesOf(String drafter) {
    if (drafter.equals(DecodingOptions.NONE)) {
      return List.of("none");
    }
    return policies != null ? policies : java.util.Collections.singletonList(null);
  }

  private LoadedDecoder load(LlamaModel model, KvCachePool pool, String drafter, String policy) {
    if (drafter.equals(DecodingOptions.NONE)) {
      return LoadedDecoder.plain(model, pool);
    }
    DrafterSpec spec = DrafterSpec.parse(drafter);
    Path checkpoint =
        EngineLoader.heads(spec.kind(), model, heads.get(spec.kind().id()))
            .orElseThrow(() -> EngineLoader.noHeads(spec.kind(), model));
    return LoadedDecoder.speculative(
        model, pool, spec, checkpoint, policy, 0, AcceptanceMode.LOSSLESS);
  }

  private void warmUp(Decoder decoder, int[] prompt) {
    for (int i = 0; i < warmup; i++) {
      decoder.generate(
          new GenerationRequest(prompt, maxTokens, SamplingParams.GREEDY), TokenSink.IGNORE);
    }
  }

  private Run measure(
      String backend,
      LoadedDecoder loaded,
      List<int[]> prompts,
      double temperature,
      double opsPerStep,
      IntConsumer promptDone) {
    long tokens = 0;
    long nanos = 0;
    long steps = 0;
    long committedBySteps = 0;
    long drafted = 0;
    long accepted = 0;
    long[] acceptedPerDepth = new long[0];
    long[] draftedPerDepth = new long[0];
    StageTimes stages = StageTimes.ZERO;
    for (int i = 0; i < prompts.size(); i++) {
      SamplingParams sampling = new SamplingParams(temperature, 0, 1.0, i);
      DecodeStats s =
          loaded
              .decoder()
              .generate(
                  new GenerationRequest(prompts.get(i), maxTokens, sampling), TokenSink.IGNORE)
              .stats();
      tokens += s.generatedTokens();
      nanos += s.prefillNanos() + s.decodeNanos();
      steps += s.steps();
      committedBySteps += s.generatedTokens() - 1; // the first comes from the prefill
      drafted += s.draftedTokens();
      accepted += s.acceptedTokens();
      acceptedPerDepth = add(acceptedPerDepth, s.acceptedPerDepth());
      draftedPerDepth = add(draftedPerDepth, s.draftedPerDepth());
      stages = stages.plus(s.stages());
      promptDone.accept(i);
    }
    return new Run(
        backend,
        loaded.decoder().name(),
        loaded.policy(),
        temperature,
        tokens,
        nanos,
        steps,
        committedBySteps,
        drafted,
        accepted,
        acceptedPerDepth,
        draftedPerDepth,
        stages,
        opsPerStep);
  }

  private static long[] add(long[] sum, long[] more) {
    long[] out = Arrays.copyOf(sum, Math.max(sum.length, more.length));
    for (int i = 0; i < more.length; i++) {
      out[i] += more[i];
    }
    return out;
  }

  /**
   * Top-level PyTorch ops per target forward of one greedy generation (the prefill counts as one):
   * drafting, verification and acceptance together.
   */
  private double opsPerStep(Decoder decoder, int[] prompt) throws IOException {
    int[] steps = new int[1];
    int ops =
        OpProfile.countOps(
            () ->
                steps[0] =
                    decoder
                        .generate(
                            new GenerationRequest(prompt, maxTokens, SamplingParams.GREEDY),
                            TokenSink.IGNORE)
                        .stats()
                        .steps());
    return (double) ops / (steps[0] + 1);
  }

  private void report(List<Setup> setups, int promptCount, List<Run> runs) throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    LlamaModel model = setups.get(0).model();
    if (json) {
      ObjectNode root = JSON.createObjectNode();
      root.put("model", model.source().getFileName().toString());
      root.put("model_file_bytes", Machine.sizeOf(model.source()));
      root.put("prompts", promptCount);
      root.put("max_tokens", maxTokens);
      root.put("rounds", rounds);
      root.set("machine", Machine.describe(JSON));
      ObjectNode memory = root.putObject("memory_after_warm_up");
      for (Setup setup : setups) {
        ObjectNode m = memory.putObject(setup.backend());
        m.put("model_file_pages_resident_bytes", setup.memory().mappedBytes());
        m.put("heap_in_use_bytes", setup.memory().heapBytes());
        m.put("process_resident_bytes", setup.memory().processBytes());
      }
      ArrayNode array = root.putArray("runs");
      for (Run run : runs) {
        ObjectNode r = array.addObject();
        r.put("backend", run.backend());
        r.put("drafter", run.drafter());
        r.put("policy", run.policy());
        r.put("temperature", run.temperature());
        r.put("tokens_per_second", run.tokensPerSecond());
        r.put("mean_accepted", run.meanAccepted());
        r.put("acceptance_rate", run.acceptanceRate());
        r.put("speedup_vs_baseline", speedup(run, runs));
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
      for (Setup setup : setups) {
        out.printf(
            "%s backend after warm-up: model file pages resident %.1f MiB, Java heap in use %.1f"
                + " MiB, process resident %.1f MiB%n",
            setup.backend(),
            setup.memory().mappedBytes() / 1048576.0,
            setup.memory().heapBytes() / 1048576.0,
            setup.memory().processBytes() / 1048576.0);
      }
      out.printf(
          "%-6s %-13s %-11s %5s %10s %9s %8s %6s %6s  %-24s %s%n",
          "backend",
          "drafter",
          "policy",
          "temp",
          "tokens/s",
          "speedup",
          "accepted",
          "rate",
          "ops",
          "us/step: prop ver acc com",
          "acceptance per depth");
      for (Run run : runs) {
        StringBuilder depths = new StringBuilder();
        for (double rate : run.acceptanceByDepth()) {
          depths.append(String.format("%.2f ", rate));
        }
        double[] micros = run.stageMicros();
        out.printf(
            "%-6s %-13s %-11s %5.2f %10.1f %8.2fx %8.2f %6.2f %6.0f  %5.0f %5.0f %5.0f %5.0f   %s%n",
            run.backend(),
            run.drafter(),
            run.policy(),
            run.temperature(),
            run.tokensPerSecond(),
            speedup(run, runs),
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

  /**
   * A run's tokens/s over plain decoding's on the same backend at the same temperature (NaN if that
   * was not run).
   */
  private static double speedup(Run run, List<Run> runs) {
    return runs.stream()
        .filter(r -> r.backend().equals(run.backend()))
        .filter(r -> r.drafter().equals(DecodingOptions.NONE))
        .filter(r -> r.temperature() == run.temperature())
        .findFirst()
        .map(baseline -> run.tokensPerSecond() / baseline.tokensPerSecond())
        .orElse(Double.NaN);
  }

  private List<String> readPrompts() throws IOException {
    List<String> lines;
    if (prompts != null) {
      if (!Files.isRegularFile(prompts)) {
        throw new IllegalArgumentException("no prompt file at " + prompts);
      }
      lines = Files.readAllLines(prompts, StandardCharsets.UTF_8);
    } else {
      try (InputStream in = BenchCommand.class.getResourceAsStream("/bench-prompts.txt")) {
        lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
      }
    }
    List<String> nonBlank = lines.stream().filter(l -> !l.isBlank()).toList();
    if (nonBlank.isEmpty()) {
      throw new IllegalArgumentException("the prompt file has no prompts");
    }
    return nonBlank;
  }
}
