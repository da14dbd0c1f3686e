package io.specd.cli;

import akka.stream.javadsl.Sink;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.specd.actors.CompletionRequest;
import io.specd.actors.Engine;
import io.specd.actors.EngineLoader;
import io.specd.actors.TokenEvent;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.heads.DrafterSpec;
import io.specd.kernels.heads.medusa.MedusaDrafter;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.torch.OpProfile;
import io.specd.kernels.torch.TorchBackend;
import io.specd.policies.spec.DecodeStats;
import io.specd.policies.spec.SamplingParams;
import io.specd.streams.SpecDecoding;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
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
 * runs of the same process on the same prompts; absolute figures vary with the machine. Every
 * request runs through the engine the server runs (in process, no HTTP), one at a time as {@code
 * specd generate} runs it: an engine per drafter and backend, the engines of a backend sharing one
 * copy of the model (they run one after another), whose requests ask for each policy in turn.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Measure plain decoding and every drafter and policy on the same prompts, greedy and"
            + " sampled.")
final class BenchCommand implements Callable<Integer> {
  /** The least warm-up of each configuration by default. */
  private static final double WARM_UP_SECONDS = 1;

  /** Warm-up windows whose decoding times per token are compared. */
  private static final long WARM_UP_WINDOW_NANOS = 500_000_000L;

  /** Two warm-up windows this close (relative) are steady. */
  private static final double STEADY = 0.1;

  /** The longest a configuration warms up for steadiness (unless asked for longer). */
  private static final double MOST_WARM_UP_SECONDS = 20;

  /**
   * The least warm-up of the concurrency engines by default: on stories260K 16 sessions' aggregate
   * rate rose for ~5 s (about 100,000 tokens) before it levelled off.
   */
  private static final double CONCURRENCY_WARM_UP_SECONDS = 8;

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
          "Untimed generations of each drafter before measuring, to warm up the JIT; they go on"
              + " until --warmup-seconds have passed too (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--warmup-seconds",
      paramLabel = "S",
      description =
          "Least time each drafter warms up for: on a small model a few generations end"
              + " before the JIT has compiled the step; beyond it the warm-up goes on until the"
              + " decoding time per token of two half-second windows agree within 10%%, for at"
              + " most 20 s (default: 1; 0 with --warmup 0: no warm-up; with --concurrency, 8 for"
              + " the engines together, whose per-request paths compile only after thousands of"
              + " requests).")
  Double warmupSeconds;

  @Option(
      names = "--drafters",
      paramLabel = "LIST",
      split = ",",
      description =
          "Drafters to measure (default: none, lookup and every drafter whose heads ship for the"
              + " model).")
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
      names = "--top-k",
      paramLabel = "K",
      defaultValue = "0",
      description = "Top-k filter of every sampled run; 0 keeps every token (default: 0).")
  int topK;

  @Option(
      names = "--top-p",
      paramLabel = "P",
      defaultValue = "1.0",
      description = "Top-p filter of every sampled run; 1 keeps every token (default: 1).")
  double topP;

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
              + " (e.g. 1,4,16), with verification batching on and off, for each of --drafters"
              + " (default: the default drafter) and each of --policies (default: the drafter's).")
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
   * A configuration measured: the engine of a drafter on a backend, and the policy its requests ask
   * for (null: the drafter's default).
   *
   * @param opsPerStep PyTorch's ops per step (0 on java)
   */
  private record Configuration(String backend, Engine engine, String policy, double opsPerStep) {
    String policyName() {
      return policy != null ? policy : engine.defaultPolicy();
    }
  }

  /**
   * One backend's model, its engines, one per drafter, and the configurations measured on them. The
   * engines share the model: they run one after another (a request at a time), so each engine's
   * device is the model's only user while it works.
   *
   * @param memory what the model and every drafter hold, measured after the warm-ups have read
   *     every weight
   */
  private record Setup(
      LlamaModel model,
      List<Engine> engines,
      List<Configuration> configurations,
      BenchReport.BackendMemory memory)
      implements AutoCloseable {
    @Override
    public void close() {
      boolean stopped = true;
      for (Engine engine : engines) {
        stopped &= engine.stop();
      }
      if (stopped) { // else a forward pass may still run: the model is left to the JVM's exit
        model.close();
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    new SamplingParams(1.0, topK, topP, 0); // refuses a bad --top-k or --top-p before any loading
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
        setups.add(setUp(backend, promptTexts.get(0)));
      }
      List<Configuration> configurations = new ArrayList<>();
      setups.forEach(setup -> configurations.addAll(setup.configurations()));
      // every round measures every configuration once, interleaved, so that a slow spell of
      // the machine hits all of them; each keeps its fastest round
      BenchRun[][] best = new BenchRun[configurations.size()][temperatures.size()];
      long generations =
          (long) rounds * configurations.size() * temperatures.size() * promptTexts.size();
      try (ProgressBar bar = ProgressBars.of("bench", generations)) {
        for (int round = 0; round < rounds; round++) {
          for (int c = 0; c < configurations.size(); c++) {
            Configuration configuration = configurations.get(c);
            for (int t = 0; t < temperatures.size(); t++) {
              String where =
                  String.format(
                      Locale.ROOT,
                      "round %d/%d, %s %s/%s T=%s",
                      round + 1,
                      rounds,
                      configuration.backend(),
                      configuration.engine().drafterName(),
                      configuration.policyName(),
                      temperatures.get(t));
              BenchRun run =
                  measure(
                      configuration,
                      promptTexts,
                      temperatures.get(t),
                      prompt -> {
                        bar.setExtraMessage(
                            where + ", prompt " + (prompt + 1) + "/" + promptTexts.size());
                        bar.step();
                      });
              if (best[c][t] == null || run.nanos() < best[c][t].nanos()) {
                best[c][t] = run;
              }
            }
          }
        }
      }
      List<BenchRun> runs = new ArrayList<>();
      Arrays.stream(best).forEach(row -> runs.addAll(List.of(row)));
      report()
          .sweep(
              setups.get(0).engines().get(0).model(),
              setups.stream().map(Setup::memory).toList(),
              promptTexts.size(),
              runs);
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
   * Loads the model on a backend and starts an engine per drafter on it, warmed up (and, on torch,
   * with PyTorch's ops per step counted first).
   *
   * @param backend a backend name, or null for this machine's default
   * @param prompt the prompt the warm-up generates from
   */
  private Setup setUp(String backend, String prompt) throws IOException {
    LlamaModel model = modelOptions.load(backend);
    List<Engine> engines = new ArrayList<>();
    List<Configuration> configurations = new ArrayList<>();
    try {
      for (String drafter : drafterNames(model)) {
        List<String> drafterPolicies = policiesOf(drafter);
        double[] ops = opsPerStep(model, drafter, drafterPolicies, prompt);
        Engine engine = start(model, drafter);
        engines.add(engine);
        for (int p = 0; p < drafterPolicies.size(); p++) {
          configurations.add(
              new Configuration(model.backend().name(), engine, drafterPolicies.get(p), ops[p]));
        }
        warmUp(engine, drafter, prompt);
      }
      // after the warm-ups every weight page has been read: what the model and its drafters hold
      BenchReport.BackendMemory memory =
          new BenchReport.BackendMemory(
              model.backend().name(),
              Machine.mappedResidentBytes(model.source()),
              Machine.heapInUseBytes(),
              Machine.residentBytes());
      return new Setup(model, engines, configurations, memory);
    } catch (IOException | RuntimeException e) {
      new Setup(model, engines, configurations, null).close();
      throw e;
    }
  }

  /** Every drafter named (the default one when none is), one after another. */
  private int concurrencyBench(List<String> promptTexts) {
    List<ConcurrencyBench.Load> loads = new ArrayList<>();
    for (String drafter : drafters == null ? Collections.<String>singletonList(null) : drafters) {
      for (String policy : policies == null ? Collections.<String>singletonList(null) : policies) {
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
                policy,
                maxTokens,
                promptTexts,
                rounds,
                warmupSeconds == null ? CONCURRENCY_WARM_UP_SECONDS : warmupSeconds);
        loads.addAll(bench.measure(concurrency));
      }
    }
    report().concurrency(loads);
    return 0;
  }

  private int forwardCostBench(List<String> backendNames, String prompt) throws IOException {
    List<BenchReport.ForwardCostsOn> measured = new ArrayList<>();
    for (String backend : backendNames) {
      try (LlamaModel model = modelOptions.load(backend)) {
        int[] tokens = model.tokenizer().encodePrompt(prompt);
        measured.add(
            new BenchReport.ForwardCostsOn(
                model.backend().name(),
                model.source().getFileName().toString(),
                tokens.length,
                ForwardCosts.measure(model, tokens, forwardCosts)));
      }
    }
    report().forwardCosts(measured);
    return 0;
  }

  /**
   * The drafters to measure: as asked, else plain decoding, prompt lookup and every drafter with
   * heads.
   */
  private List<String> drafterNames(LlamaModel model) {
    if (drafters != null) {
      return drafters;
    }
    List<String> names = new ArrayList<>(List.of(DecodingOptions.NONE, EngineLoader.LOOKUP));
    for (DrafterKind kind : DrafterKind.values()) {
      Optional<Path> checkpoint = EngineLoader.heads(kind, model, heads.get(kind.id()));
      if (checkpoint.isPresent()) {
        names.add(kind.id());
        if (kind == DrafterKind.MEDUSA && MedusaDrafter.refinable(checkpoint.get())) {
          names.add(DrafterSpec.of(kind).refined().id());
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

  /**
   * An engine of one session on {@code model} with {@code drafter}, the engine {@code specd
   * generate} runs; the caller stops it ({@link Engine#stop}) and closes the model.
   */
  private Engine start(LlamaModel model, String drafter) {
    Config config =
        ConfigFactory.parseString(GenerateCommand.ONE_SESSION + "\nakka.loglevel = WARNING")
            .withFallback(ConfigFactory.load());
    return EngineLoader.start(config, model, drafter, headsOf(drafter), null, false);
  }

  /**
   * Generates greedily on the engine, {@link #warmup} times and for {@link #warmupSeconds}, then on
   * until the decoding time per token is steady ({@link #STEADY} between two windows of {@link
   * #WARM_UP_WINDOW_NANOS}, at most {@link #MOST_WARM_UP_SECONDS}): plain decoding itself; for a
   * drafter, drafting its whole shape every step and drafting nothing, in turns, so that the
   * drafter, the larger verifications and the steps without a draft are all compiled before they
   * are timed, and the measured policies learn nothing from the warm-up's cold steps (a goodput
   * planner hands its costs on to the next requests). A fixed second was too short on a slower
   * machine: stories260K then measured 8,800–11,600 tokens/s decoding against 23,300 once steady,
   * the Vector API's unintrinsified fallbacks still running.
   */
  private void warmUp(Engine engine, String drafter, String prompt) {
    List<String> warming =
        drafter.equals(DecodingOptions.NONE) ? List.of("none") : List.of("static", "none");
    double seconds = warmupSeconds == null ? WARM_UP_SECONDS : warmupSeconds;
    if (warmup == 0 && seconds == 0) {
      return;
    }
    long start = System.nanoTime();
    long least = start + (long) (seconds * 1e9);
    long most = start + (long) (Math.max(seconds, MOST_WARM_UP_SECONDS) * 1e9);
    double previous = Double.NaN; // decoding nanoseconds per token in the window before
    int done = 0;
    while (true) {
      // with --warmup-seconds 0, --warmup's generations alone: a turn of the policies per window
      long windowEnd = System.nanoTime() + (seconds == 0 ? 0 : WARM_UP_WINDOW_NANOS);
      long nanos = 0;
      long tokens = 0;
      do { // whole turns of the warming policies
        DecodeStats stats =
            generate(
                engine,
                new CompletionRequest(
                    prompt,
                    maxTokens,
                    SamplingParams.GREEDY,
                    List.of(),
                    warming.get(done++ % warming.size())));
        nanos += stats.decodeNanos();
        tokens += stats.generatedTokens();
      } while (done % warming.size() != 0 || System.nanoTime() < windowEnd);
      double perToken = (double) nanos / Math.max(1, tokens);
      boolean steady = Math.abs(perToken - previous) <= STEADY * previous;
      previous = perToken;
      long now = System.nanoTime();
      if (done >= warmup && now >= least && (seconds == 0 || steady || now >= most)) {
        return;
      }
    }
  }

  /** A configuration's figures over every prompt, prompt {@code i} sampled with seed {@code i}. */
  private BenchRun measure(
      Configuration configuration,
      List<String> prompts,
      double temperature,
      IntConsumer promptDone) {
    List<DecodeStats> perPrompt = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      SamplingParams sampling = new SamplingParams(temperature, topK, topP, i);
      perPrompt.add(
          generate(
              configuration.engine(),
              new CompletionRequest(
                  prompts.get(i), maxTokens, sampling, List.of(), configuration.policy())));
      promptDone.accept(i);
    }
    return BenchRun.sum(
        configuration.backend(),
        configuration.engine().drafterName(),
        configuration.policyName(),
        temperature,
        configuration.opsPerStep(),
        perPrompt);
  }

  /** Runs one request through the engine, as {@code specd generate} does: its statistics. */
  private static DecodeStats generate(Engine engine, CompletionRequest request) {
    TokenEvent last =
        SpecDecoding.source(engine, request)
            .runWith(Sink.last(), engine.system())
            .toCompletableFuture()
            .join();
    if (last instanceof TokenEvent.Finished finished) {
      return finished.usage().stats();
    }
    throw new IllegalStateException(
        "a benchmark request failed: "
            + (last instanceof TokenEvent.Failed failed ? failed.message() : last));
  }

  /**
   * On torch, PyTorch's top-level ops per target forward of one greedy generation with each policy
   * (the prefill counts as one), counted on the kernels' decoding loop before the engine takes the
   * model (PyTorch's profiler records the ops of the thread that starts it, and the engine's run on
   * the device's); zeros on java.
   */
  private double[] opsPerStep(
      LlamaModel model, String drafter, List<String> policies, String prompt) throws IOException {
    double[] ops = new double[policies.size()];
    if (!(model.backend() instanceof TorchBackend)) {
      return ops;
    }
    int[] tokens = model.tokenizer().encodePrompt(prompt);
    try (KvCachePool pool = model.newCachePool(1, model.config().contextLength())) {
      for (int p = 0; p < policies.size(); p++) {
        try (LoadedDecoder loaded = load(model, pool, drafter, policies.get(p))) {
          int[] steps = new int[1];
          int counted =
              OpProfile.countOps(
                  () ->
                      steps[0] =
                          loaded
                              .decoder()
                              .generate(
                                  new GenerationRequest(tokens, maxTokens, SamplingParams.GREEDY),
                                  TokenSink.IGNORE)
                              .stats()
                              .steps());
          ops[p] = (double) counted / (steps[0] + 1);
        }
      }
    }
    return ops;
  }

  private LoadedDecoder load(LlamaModel model, KvCachePool pool, String drafter, String policy) {
    if (drafter.equals(DecodingOptions.NONE)) {
      return LoadedDecoder.plain(model, pool);
    }
    Drafter loaded =
        EngineLoader.load(model, drafter, headsOf(drafter), pool.slots(), pool.capacity());
    return LoadedDecoder.speculative(model, pool, loaded, policy, 0, AcceptanceMode.LOSSLESS);
  }

  /** The heads given for a drafter ({@code --heads KIND=FILE}), or null. */
  private Path headsOf(String drafter) {
    return drafter.equals(DecodingOptions.NONE) || drafter.equals(EngineLoader.LOOKUP)
        ? null
        : heads.get(DrafterSpec.parse(drafter).kind().id());
  }

  private BenchReport report() {
    return new BenchReport(spec.commandLine().getOut(), json, maxTokens, rounds, topK, topP);
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
