package io.specd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.specd.kernels.TestModels;
import io.specd.kernels.store.ModelStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line, run in process as a user runs it. */
class GenerateCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Path model() {
    return ModelStore.standard().findLocal().orElseThrow();
  }

  record Outcome(int exitCode, String out, String err) {}

  static Outcome run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = SpecdCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Outcome(code, out.toString(), err.toString());
  }

  @Test
  void everyBackendShouldReproduceTheReferenceCompletion() throws Exception {
    for (String backend : new String[] {"java", "torch"}) {
      JsonNode stats = generateReference("--backend", backend).path("stats");
      assertThat(stats.path("backend").asText()).isEqualTo(backend);
    }
    assertThat(generateReference().path("stats").path("backend").asText())
        .as("the default on a machine without CUDA")
        .isEqualTo("java");
  }

  @Test
  void anUnknownBackendAndTrainingOffTorchShouldBeRejectedByName() {
    Outcome backend =
        run("generate", "--model", model().toString(), "--prompt", "Hi", "--backend", "tpu");
    assertThat(backend.exitCode()).isEqualTo(2);
    assertThat(backend.err())
        .isEqualTo("specd: unknown backend 'tpu'; use one of java, torch" + System.lineSeparator());
    Outcome training =
        run(
            "train-heads",
            "--model",
            model().toString(),
            "--kind",
            "medusa",
            "--out",
            "heads.json",
            "--backend",
            "java");
    assertThat(training.exitCode()).isEqualTo(2);
    assertThat(training.err()).contains("train-heads trains on the torch backend");
  }

  @Test
  void generateJsonShouldReproduceTheReferenceCompletion() throws Exception {
    JsonNode result = generateReference("--drafter", "none");
    JsonNode stats = result.path("stats");
    assertThat(stats.path("steps").asInt()).isEqualTo(255);
    assertThat(stats.path("mean_accepted").asDouble()).isEqualTo(1.0);
    assertThat(stats.path("tokens_per_second").asDouble()).isPositive();
    assertThat(stats.path("drafter").asText()).isEqualTo("none");
    assertThat(stats.path("policy").asText()).isEqualTo("none");
  }

  @Test
  void theDefaultDrafterShouldBeTheFastestMeasuredForTheBackendAndModel() throws Exception {
    // stories260K is cache-resident: on java no drafter beats plain decoding
    assertThat(generateReference().path("stats").path("drafter").asText()).isEqualTo("none");
    JsonNode stats = generateReference("--backend", "torch").path("stats");
    assertThat(stats.path("drafter").asText()).isEqualTo("clover");
    assertThat(stats.path("steps").asInt()).isLessThan(255);
    assertThat(stats.path("mean_accepted").asDouble()).isGreaterThan(1.0);
    assertThat(stats.path("accepted_tokens").asInt()).isPositive();
    assertThat(stats.path("acceptance_per_depth")).isNotEmpty();
  }

  @Test
  void everyDrafterShouldReproduceTheReferenceCompletion() throws Exception {
    for (String drafter : new String[] {"medusa", "clover", "kangaroo"}) {
      JsonNode stats = generateReference("--drafter", drafter).path("stats");
      assertThat(stats.path("drafter").asText()).isEqualTo(drafter);
      assertThat(stats.path("mean_accepted").asDouble()).isGreaterThan(1.0);
    }
  }

  @Test
  void unknownDraftersAndPoliciesShouldBeRejectedByName() {
    Outcome drafter =
        run("generate", "--model", model().toString(), "--prompt", "Hi", "--drafter", "eagle");
    assertThat(drafter.exitCode()).isEqualTo(2);
    assertThat(drafter.err()).contains("unknown drafter 'eagle'").doesNotContain("Exception");
    Outcome policy =
        run("generate", "--model", model().toString(), "--prompt", "Hi", "--policy", "greedy");
    assertThat(policy.exitCode()).isEqualTo(2);
    assertThat(policy.err()).contains("unknown policy 'greedy'").doesNotContain("Exception");
  }

  /** Greedy "Once upon a time", 256 tokens, checked against llama.cpp's reference text. */
  private JsonNode generateReference(String... options) throws Exception {
    JsonNode result = generateJson("Once upon a time", 256, options);
    String reference = Files.readString(TestModels.referenceOutput());
    String expected = reference.substring("<s> Once upon a time".length(), reference.length() - 1);
    assertThat(result.path("text").asText()).isEqualTo(expected);
    assertThat(result.path("tokens")).hasSize(256);
    assertThat(result.path("finish_reason").asText()).isEqualTo("length");
    return result;
  }

  /** {@code generate --json} of a prompt on the test model, which must succeed. */
  private JsonNode generateJson(String prompt, int maxTokens, String... options) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "generate",
                "--model",
                model().toString(),
                "--prompt",
                prompt,
                "--max-tokens",
                Integer.toString(maxTokens),
                "--json"));
    args.addAll(List.of(options));
    Outcome outcome = run(args.toArray(String[]::new));
    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    return JSON.readTree(outcome.out());
  }

  @Test
  void aStopStringShouldEndTheCompletionBeforeIt() throws Exception {
    JsonNode result =
        generateJson("Once upon a time", 64, "--stop", "park", "--stop", "never appears");
    assertThat(result.path("text").asText())
        .isEqualTo(", there was a little girl named Lily. She loved to play outside in the ");
    assertThat(result.path("finish_reason").asText()).isEqualTo("stop");
  }

  @Test
  void theSameSeedShouldGiveTheSameSampledText() {
    String[] args = {
      "generate",
      "--model",
      model().toString(),
      "--prompt",
      "Lily",
      "--max-tokens",
      "40",
      "--temperature",
      "0.9",
      "--top-p",
      "0.95",
      "--seed",
      "7",
      "--json"
    };
    Outcome first = run(args);
    Outcome second = run(args);
    assertThat(first.exitCode()).as(first.err()).isZero();
    assertThat(field(first, "tokens")).isEqualTo(field(second, "tokens"));
    assertThat(field(first, "text").asText()).isNotBlank();
  }

  @Test
  void aPromptBeyondTheContextShouldFailWithBothNumbers() {
    Outcome outcome =
        run("generate", "--model", model().toString(), "--prompt", "Hi", "--max-tokens", "4096");
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err())
        .contains("the prompt has 3 tokens and max_tokens is 4096")
        .contains("context length of 2048")
        .doesNotContain("Exception");
  }

  @Test
  void aMissingModelShouldFailWithItsPath() {
    Outcome outcome = run("generate", "--model", "/no/such/model.gguf", "--prompt", "Hi");
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err().trim())
        .isEqualTo("specd: /no/such/model.gguf: no such model file or directory");
  }

  @Test
  void badSamplingParametersShouldBeRejected() {
    Outcome outcome =
        run("generate", "--model", model().toString(), "--prompt", "Hi", "--top-p", "1.5");
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err()).contains("top_p must be in (0, 1], got 1.5");
  }

  @Test
  void benchShouldMeasureConcurrentStreamsWithBatchingOnAndOff() throws Exception {
    Outcome outcome =
        concurrencyBench("--concurrency", "1,3", "--drafters", "none,kangaroo", "--json");
    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    JsonNode rows = JSON.readTree(outcome.out()).path("concurrency");
    List<String> measured = labels(rows, "drafter", "batching", "concurrency");
    assertThat(measured)
        .containsExactly(
            "none:true@1",
            "none:true@3",
            "none:false@1",
            "none:false@3",
            "kangaroo:true@1",
            "kangaroo:true@3",
            "kangaroo:false@1",
            "kangaroo:false@3");
    for (JsonNode row : rows) {
      assertThat(row.path("tokens").asLong()).isEqualTo(8L * row.path("requests").asLong());
      assertThat(row.path("tokens_per_second").asDouble()).isPositive();
      assertThat(row.path("p99_ms_between_tokens").asDouble())
          .isGreaterThanOrEqualTo(row.path("p50_ms_between_tokens").asDouble());
      assertThat(row.path("p50_ms_to_first_token").asDouble()).isPositive();
      assertThat(row.path("p99_ms_to_first_token").asDouble())
          .isGreaterThanOrEqualTo(row.path("p50_ms_to_first_token").asDouble());
    }
  }

  @Test
  void benchShouldPlotTokensPerSecondAgainstDraftLength() throws Exception {
    Path plot = Files.createTempFile("plot", ".png");
    Outcome outcome =
        quickBench(
            "--drafters",
            "clover",
            "--policies",
            "static-1,static-2,bandit",
            "--temperatures",
            "0",
            "--plot",
            plot.toString());
    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    assertThat(ImageIO.read(plot.toFile()).getWidth()).isPositive();
  }

  @Test
  void benchWithoutPlainDecodingShouldLeaveTheSpeedupBlank() throws Exception {
    Outcome table = quickBench("--drafters", "lookup", "--temperatures", "0");
    assertThat(table.exitCode()).as(table.err()).isZero();
    assertThat(table.out()).contains("lookup").doesNotContain("NaN");

    Outcome json = quickBench("--drafters", "lookup", "--temperatures", "0", "--json");
    assertThat(json.exitCode()).as(json.err()).isZero();
    JsonNode run = JSON.readTree(json.out()).path("runs").get(0);
    assertThat(run.path("speedup_vs_baseline").isNull()).as(run.toString()).isTrue();
  }

  @Test
  void benchShouldSampleWithTheFiltersItIsGiven() throws Exception {
    Outcome json =
        quickBench(
            "--drafters",
            "none",
            "--temperatures",
            "1",
            "--top-k",
            "40",
            "--top-p",
            "0.9",
            "--json");
    assertThat(json.exitCode()).as(json.err()).isZero();
    JsonNode result = JSON.readTree(json.out());
    assertThat(result.path("top_k").asInt()).isEqualTo(40);
    assertThat(result.path("top_p").asDouble()).isEqualTo(0.9);
    assertThat(result.path("runs").get(0).path("tokens_per_second").asDouble()).isPositive();

    Outcome bad = quickBench("--drafters", "none", "--top-p", "1.5");
    assertThat(bad.exitCode()).isNotZero();
    assertThat(bad.err()).contains("top_p must be in (0, 1], got 1.5").doesNotContain("Exception");
  }

  @Test
  void benchJsonShouldMeasureEveryDrafterGreedyAndSampledOnEachBackend() throws Exception {
    Outcome outcome =
        bench(
            "Once upon a time\nThe dog\n",
            "--max-tokens",
            "16",
            "--warmup",
            "0",
            "--warmup-seconds",
            "0",
            "--backends",
            "java,torch",
            "--json");
    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    JsonNode result = JSON.readTree(outcome.out());
    assertThat(result.path("prompts").asInt()).isEqualTo(2);
    assertThat(
            result
                .path("memory_after_warm_up")
                .path("java")
                .path("process_resident_bytes")
                .asLong())
        .isPositive();
    JsonNode runs = result.path("runs");
    List<String> measured = labels(runs, "backend", "drafter", "temperature");
    List<String> configurations =
        List.of(
            "none@0.0",
            "none@0.8",
            "lookup@0.0",
            "lookup@0.8",
            "medusa@0.0",
            "medusa@0.8",
            "medusa+ngram@0.0",
            "medusa+ngram@0.8",
            "clover@0.0",
            "clover@0.8",
            "kangaroo@0.0",
            "kangaroo@0.8");
    List<String> expected = new ArrayList<>();
    for (String backend : List.of("java", "torch")) {
      configurations.forEach(c -> expected.add(backend + ":" + c));
    }
    assertThat(measured).containsExactlyElementsOf(expected);
    JsonNode baseline = runs.get(0);
    assertThat(baseline.path("tokens_per_second").asDouble()).isPositive();
    assertThat(baseline.path("speedup_vs_baseline").asDouble()).isEqualTo(1.0);
    assertThat(baseline.path("ops_per_step").asDouble()).as("no PyTorch ops on java").isZero();
    JsonNode torchBaseline = runs.get(configurations.size());
    assertThat(torchBaseline.path("speedup_vs_baseline").asDouble()).isEqualTo(1.0);
    assertThat(torchBaseline.path("ops_per_step").asDouble()).isGreaterThan(50);
    for (JsonNode run : runs) {
      assertThat(run.path("decode_tokens_per_second").asDouble())
          .as("after the prefills")
          .isPositive();
      assertThat(run.path("mean_accepted").asDouble()).isGreaterThanOrEqualTo(1.0);
      assertThat(run.path("speedup_vs_baseline").asDouble()).isPositive();
      if (!run.path("drafter").asText().equals("none")) {
        // java's default, the goodput planner, rightly stops drafting on this cache-resident
        // model once it has measured that drafts cannot pay (the warm-up teaches it); torch's
        // static defaults draft every step
        assertThat(run.path("acceptance_rate").asDouble()).isBetween(0.0, 1.0);
        if (run.path("drafter").asText().equals("lookup")) {
          // prompt lookup drafts only where the text repeats itself, which 8 tokens may not do
          assertThat(run.path("policy").asText()).isIn("tree", "static");
        } else if (run.path("backend").asText().equals("torch")) {
          assertThat(run.path("acceptance_rate").asDouble()).isPositive();
          assertThat(run.path("acceptance_per_depth")).isNotEmpty();
        } else {
          assertThat(run.path("policy").asText()).isEqualTo("tree");
        }
      }
    }
  }

  private static JsonNode field(Outcome outcome, String name) {
    try {
      return JSON.readTree(outcome.out()).path(name);
    } catch (Exception e) {
      throw new AssertionError(outcome.out(), e);
    }
  }

  /** Each row as {@code first:second@third}, from the fields of those names. */
  @Test
  void benchShouldMeasureConcurrentStreamsUnderEachPolicyAsked() throws Exception {
    Outcome outcome =
        concurrencyBench(
            "--warmup-seconds",
            "0",
            "--concurrency",
            "2",
            "--drafters",
            "kangaroo",
            "--policies",
            "static-1,none",
            "--json");
    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    JsonNode rows = JSON.readTree(outcome.out()).path("concurrency");
    assertThat(labels(rows, "policy", "batching", "concurrency"))
        .containsExactly("static-1:true@2", "static-1:false@2", "none:true@2", "none:false@2");
    for (JsonNode row : rows) {
      assertThat(row.path("drafter").asText()).isEqualTo("kangaroo");
      assertThat(row.path("tokens").asLong()).isEqualTo(8L * row.path("requests").asLong());
    }
  }

  /**
   * {@code bench} on one prompt of 8 tokens, no warm-up, one round, with {@code more} arguments.
   */
  private Outcome quickBench(String... more) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--max-tokens", "8", "--warmup", "0", "--warmup-seconds", "0", "--rounds", "1"));
    args.addAll(List.of(more));
    return bench("Once upon a time\n", args.toArray(String[]::new));
  }

  /** {@code bench} on two prompts of 8 tokens, one round, with {@code more} arguments. */
  private Outcome concurrencyBench(String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("--max-tokens", "8", "--rounds", "1"));
    args.addAll(List.of(more));
    return bench("Once upon a time\nThe dog\n", args.toArray(String[]::new));
  }

  /**
   * {@code bench} of the test model on {@code prompts} (one a line), with {@code more} arguments.
   */
  private Outcome bench(String prompts, String... more) throws Exception {
    Path file = Files.createTempFile("prompts", ".txt");
    Files.writeString(file, prompts);
    List<String> args =
        new ArrayList<>(
            List.of("bench", "--model", model().toString(), "--prompts", file.toString()));
    args.addAll(List.of(more));
    return run(args.toArray(String[]::new));
  }

  private static List<String> labels(JsonNode rows, String first, String second, String third) {
    List<String> labels = new ArrayList<>();
    rows.forEach(
        r ->
            labels.add(
                r.path(first).asText()
                    + ":"
                    + r.path(second).asText()
                    + "@"
                    + r.path(third).asText()));
    return labels;
  }
}
