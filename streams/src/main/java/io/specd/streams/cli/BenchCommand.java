package io.specd.streams.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.Decoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.GenerationResult;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaForward;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.runtime.OpProfile;
import io.specd.policies.spec.SamplingParams;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
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
    description = "Measure tokens/s of autoregressive decoding over a prompt set.")
final class BenchCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PROFILED_STEPS = 16;

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

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  boolean json;

  /** One measured configuration. */
  record Run(
      String drafter,
      String policy,
      double temperature,
      long tokens,
      long nanos,
      long steps,
      long committedBySteps) {
    double tokensPerSecond() {
      return tokens * 1e9 / nanos;
    }

    /** Tokens committed per target forward after the prefill, counting the bonus token. */
    double meanAccepted() {
      return steps == 0 ? 1.0 : (double) committedBySteps / steps;
    }
  }

  @Override
  public Integer call() throws Exception {
    List<String> promptTexts = readPrompts();
    try (LlamaModel model = modelOptions.load()) {
      List<int[]> promptTokens =
          promptTexts.stream().map(p -> model.tokenizer().encodePrompt(p)).toList();
      int longest = promptTokens.stream().mapToInt(p -> p.length).max().orElse(1);
      try (KvCachePool pool =
          new KvCachePool(
              model, 1, Math.min(model.config().contextLength(), longest + maxTokens))) {
        Decoder baseline = new AutoregressiveDecoder(model, pool);
        for (int i = 0; i < warmup; i++) {
          baseline.generate(
              new GenerationRequest(promptTokens.get(0), maxTokens, SamplingParams.GREEDY),
              TokenSink.IGNORE);
        }
        Run run = measure(baseline, promptTokens, SamplingParams.GREEDY);
        double ops = opsPerDecodeStep(model, pool);
        report(model, promptTexts.size(), ops, List.of(run));
      }
    }
    return 0;
  }

  private Run measure(Decoder decoder, List<int[]> prompts, SamplingParams sampling) {
    long tokens = 0;
    long nanos = 0;
    long steps = 0;
    long committedBySteps = 0;
    for (int[] prompt : prompts) {
      GenerationResult result =
          decoder.generate(new GenerationRequest(prompt, maxTokens, sampling), TokenSink.IGNORE);
      tokens += result.stats().generatedTokens();
      nanos += result.stats().prefillNanos() + result.stats().decodeNanos();
      steps += result.stats().steps();
      committedBySteps += result.stats().generatedTokens() - 1; // the first comes from the prefill
    }
    return new Run(
        decoder.name(), "none", sampling.temperature(), tokens, nanos, steps, committedBySteps);
  }

  /** Top-level PyTorch ops of one single-token decode step, averaged over a few steps. */
  private static double opsPerDecodeStep(LlamaModel model, KvCachePool pool) throws IOException {
    KvCache cache = pool.allocate();
    try {
      int[] token = {model.config().bosId()};
      decodeOne(model, cache, token);
      int ops =
          OpProfile.countOps(
              () -> {
                for (int i = 0; i < PROFILED_STEPS; i++) {
                  decodeOne(model, cache, token);
                }
              });
      return (double) ops / PROFILED_STEPS;
    } finally {
      cache.release();
    }
  }

  private static void decodeOne(LlamaModel model, KvCache cache, int[] token) {
    try (NDManager step = model.manager().newSubManager()) {
      LlamaForward.forward(
              model,
              SequenceInput.causal(cache, token),
              ForwardOptions.lastLogits(model.config()),
              step)
          .logits()
          .toFloatArray();
      cache.commit(0);
    }
  }

  private void report(LlamaModel model, int promptCount, double ops, List<Run> runs)
      throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    double baseline = runs.get(0).tokensPerSecond();
    if (json) {
      ObjectNode root = JSON.createObjectNode();
      root.put("model", model.source().getFileName().toString());
      root.put("prompts", promptCount);
      root.put("max_tokens", maxTokens);
      root.put("ops_per_decode_step", ops);
      root.set("machine", Machine.describe(JSON));
      ArrayNode array = root.putArray("runs");
      for (Run run : runs) {
        ObjectNode r = array.addObject();
        r.put("drafter", run.drafter());
        r.put("policy", run.policy());
        r.put("temperature", run.temperature());
        r.put("tokens_per_second", run.tokensPerSecond());
        r.put("mean_accepted", run.meanAccepted());
        r.put("acceptance_rate", 0.0);
        r.put("speedup_vs_baseline", run.tokensPerSecond() / baseline);
        r.put("generated_tokens", run.tokens());
        r.put("seconds", run.nanos() / 1e9);
      }
      out.println(JSON.writeValueAsString(root));
    } else {
      out.printf(
          "model %s (dim %d, %d layers), %d prompts x %d tokens%n",
          model.source().getFileName(),
          model.config().dim(),
          model.config().layerCount(),
          promptCount,
          maxTokens);
      out.printf(
          "%-9s %-9s %6s %12s %14s %9s%n",
          "drafter", "policy", "temp", "tokens/s", "mean accepted", "speedup");
      for (Run run : runs) {
        out.printf(
            "%-9s %-9s %6.2f %12.1f %14.2f %8.2fx%n",
            run.drafter(),
            run.policy(),
            run.temperature(),
            run.tokensPerSecond(),
            run.meanAccepted(),
            run.tokensPerSecond() / baseline);
      }
      out.printf("ops per decode step: %.1f%n", ops);
    }
    out.flush();
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
