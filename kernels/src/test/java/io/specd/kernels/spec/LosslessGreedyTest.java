package io.specd.kernels.spec;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.GenerationResult;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.policies.DraftShape;
import io.specd.policies.PolicyFactory;
import io.specd.policies.PolicySettings;
import io.specd.policies.bandit.PriorRegistry;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import io.specd.policies.spec.StopRule;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Greedy speculative decoding is lossless: on every backend, for every drafter (prompt lookup, and
 * the others with the heads that ship for the default model), tree shape, depth and stop rule, the
 * output is the target's plain greedy output token for token, on 30 prompts of 128 tokens, under
 * every draft policy (static, confidence exit, AdaEDL, node-budget trees, the bandit, no
 * speculation), and the llama.cpp reference text is reproduced.
 */
class LosslessGreedyTest {
  private static final int TOKENS = 128;
  private static final Map<String, Fixture> FIXTURES = new HashMap<>();
  private static List<String> promptTexts;

  /** A backend's model, cache pool and plain greedy outputs. */
  private record Fixture(
      LlamaModel model, KvCachePool pool, List<int[]> prompts, List<int[]> expected) {
    static Fixture on(String backend) {
      LlamaModel model = TestModels.loadStories260K(backend);
      KvCachePool pool = model.newCachePool(1, 512);
      List<int[]> prompts =
          promptTexts.stream().map(line -> model.tokenizer().encodePrompt(line)).toList();
      AutoregressiveDecoder plain = new AutoregressiveDecoder(model, pool);
      List<int[]> expected = new ArrayList<>();
      for (int[] prompt : prompts) {
        expected.add(plain.generate(greedy(prompt, TOKENS), TokenSink.IGNORE).tokens());
      }
      return new Fixture(model, pool, prompts, expected);
    }

    void close() {
      pool.close();
      model.close();
    }
  }

  @BeforeAll
  static void readPrompts() throws IOException {
    try (InputStream in = LosslessGreedyTest.class.getResourceAsStream("lossless-prompts.txt")) {
      promptTexts =
          new String(in.readAllBytes(), StandardCharsets.UTF_8)
              .lines()
              .filter(line -> !line.isBlank())
              .toList();
    }
    assertThat(promptTexts).hasSize(30);
  }

  @AfterAll
  static void close() {
    FIXTURES.values().forEach(Fixture::close);
    FIXTURES.clear();
  }

  private static Fixture on(String backend) {
    return FIXTURES.computeIfAbsent(backend, Fixture::on);
  }

  /** Every case of {@code cases} on every backend (the backend first). */
  private static Stream<Arguments> onEveryBackend(Stream<Arguments> cases) {
    List<Arguments> all = cases.toList();
    return TestModels.backends()
        .flatMap(
            backend ->
                all.stream()
                    .map(
                        a -> {
                          Object[] values = new Object[a.get().length + 1];
                          values[0] = backend;
                          System.arraycopy(a.get(), 0, values, 1, a.get().length);
                          return Arguments.of(values);
                        }));
  }

  static Stream<Arguments> shapes() {
    return onEveryBackend(shapeCases());
  }

  static Stream<Arguments> shapeCases() {
    StopRule confident = StopRule.confidence(0.6);
    StopRule entropy = StopRule.entropy(0.4, 0.2);
    return Stream.of(
        Arguments.of("medusa", "chain-1", Plan.chain(1, StopRule.NONE)),
        Arguments.of("medusa", "chain-4", Plan.chain(4, StopRule.NONE)),
        Arguments.of("medusa", "tree-2x8", Plan.tree(2, 8, 10, StopRule.NONE)),
        Arguments.of("medusa", "tree-5x48", Plan.tree(5, 48, 10, StopRule.NONE)),
        Arguments.of("medusa", "tree-3x16-confidence", Plan.tree(3, 16, 4, confident)),
        Arguments.of("clover", "chain-3", Plan.chain(3, StopRule.NONE)),
        Arguments.of("clover", "tree-5x40", Plan.tree(5, 40, 8, StopRule.NONE)),
        Arguments.of("clover", "tree-8x64", Plan.tree(8, 64, 4, StopRule.NONE)),
        Arguments.of("clover", "tree-4x16-entropy", Plan.tree(4, 16, 4, entropy)),
        Arguments.of("kangaroo", "chain-6", Plan.chain(6, StopRule.NONE)),
        Arguments.of("kangaroo", "chain-6-confidence", Plan.chain(6, confident)),
        Arguments.of("kangaroo", "tree-4x12", Plan.tree(4, 12, 3, StopRule.NONE)),
        Arguments.of("kangaroo", "tree-6x24-entropy", Plan.tree(6, 24, 2, entropy)),
        Arguments.of("lookup", "chain-8", Plan.chain(8, StopRule.NONE)),
        Arguments.of("lookup", "tree-6x18", Plan.tree(6, 18, 3, StopRule.NONE)),
        Arguments.of("lookup", "chain-8-confidence", Plan.chain(8, confident)),
        Arguments.of("kangaroo+lookup", "chain-6", Plan.chain(6, StopRule.NONE)),
        Arguments.of("kangaroo+lookup", "tree-4x12", Plan.tree(4, 12, 3, StopRule.NONE)),
        Arguments.of("clover+lookup", "tree-5x40", Plan.tree(5, 40, 8, StopRule.NONE)),
        Arguments.of("medusa+lookup", "tree-3x16", Plan.tree(3, 16, 4, StopRule.NONE)));
  }

  @ParameterizedTest(name = "{0}: {1} {2}")
  @MethodSource("shapes")
  void shouldEqualPlainGreedyDecoding(String backend, String kind, String shape, Plan plan) {
    Fixture f = on(backend);
    LlamaModel model = f.model();
    KvCachePool pool = f.pool();
    List<int[]> prompts = f.prompts();
    List<int[]> expected = f.expected();
    try (Drafter drafter = bundled(f, kind)) {
      SpeculativeDecoder decoder =
          new SpeculativeDecoder(
              model, pool, drafter, () -> new StaticPolicy(shape, plan), AcceptanceMode.LOSSLESS);
      long accepted = 0;
      for (int i = 0; i < prompts.size(); i++) {
        GenerationResult result =
            decoder.generate(greedy(prompts.get(i), TOKENS), TokenSink.IGNORE);
        assertThat(result.tokens())
            .as("prompt %d with %s %s", i, kind, shape)
            .containsExactly(expected.get(i));
        accepted += result.stats().acceptedTokens();
      }
      assertThat(accepted).as("draft tokens accepted").isPositive();
    }
  }

  static Stream<Arguments> policies() {
    List<String> names = List.of("none", "static-2", "confidence", "adaedl", "tree", "bandit");
    return onEveryBackend(
        TestModels.drafters()
            .flatMap(kind -> names.stream().map(policy -> Arguments.of(kind, policy))));
  }

  @ParameterizedTest(name = "{0}: {1} {2}")
  @MethodSource("policies")
  void shouldEqualPlainGreedyDecodingUnderEveryPolicy(String backend, String kind, String policy) {
    Fixture f = on(backend);
    LlamaModel model = f.model();
    KvCachePool pool = f.pool();
    List<int[]> prompts = f.prompts();
    List<int[]> expected = f.expected();
    PolicyFactory policies =
        new PolicyFactory(
            PolicySettings.defaults(DraftShape.forDrafter(kind)), new PriorRegistry());
    try (Drafter drafter = bundled(f, kind)) {
      SpeculativeDecoder decoder =
          new SpeculativeDecoder(
              model, pool, drafter, () -> policies.create(policy, 7), AcceptanceMode.LOSSLESS);
      for (int i = 0; i < prompts.size(); i++) {
        GenerationResult result =
            decoder.generate(greedy(prompts.get(i), TOKENS), TokenSink.IGNORE);
        assertThat(result.tokens())
            .as("prompt %d with %s under %s", i, kind, policy)
            .containsExactly(expected.get(i));
      }
    }
  }

  /**
   * Drafters whose state catches up lazily over the steps that did not speculate (Clover-2 runs its
   * augmenting block only when it drafts again, Kangaroo its adapter): drafting on one step in
   * three stays lossless, and the drafts after a catch-up are as good as when drafting every step.
   */
  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("drafters")
  void shouldStayLosslessAndDraftAsWellWhenSpeculatingOnlySometimes(String backend, String kind) {
    Fixture f = on(backend);
    Plan plan = Plan.chain(3, StopRule.NONE);
    try (Drafter drafter = bundled(f, kind)) {
      double everyStep = acceptanceRate(f, drafter, () -> new StaticPolicy("static-3", plan));
      double sometimes = acceptanceRate(f, drafter, () -> new EveryThirdStep(plan));
      assertThat(sometimes)
          .as("acceptance drafting one step in three (every step: %.3f)", everyStep)
          .isGreaterThan(0.8 * everyStep);
    }
  }

  /** Greedy over every prompt, checked against plain decoding: the acceptance rate. */
  private static double acceptanceRate(Fixture f, Drafter drafter, Supplier<DraftPolicy> policy) {
    SpeculativeDecoder decoder =
        new SpeculativeDecoder(f.model(), f.pool(), drafter, policy, AcceptanceMode.LOSSLESS);
    long drafted = 0;
    long accepted = 0;
    for (int i = 0; i < f.prompts().size(); i++) {
      GenerationResult result =
          decoder.generate(greedy(f.prompts().get(i), TOKENS), TokenSink.IGNORE);
      assertThat(result.tokens()).as("prompt %d", i).containsExactly(f.expected().get(i));
      drafted += result.stats().draftedTokens();
      accepted += result.stats().acceptedTokens();
    }
    return (double) accepted / drafted;
  }

  /** Drafts {@code plan} on every third step, nothing on the others. */
  private static final class EveryThirdStep implements DraftPolicy {
    private final Plan plan;
    private int step;

    EveryThirdStep(Plan plan) {
      this.plan = plan;
    }

    @Override
    public String name() {
      return "every-third-step";
    }

    @Override
    public Plan plan(DraftContext context) {
      return ++step % 3 == 0 ? plan : Plan.NO_SPECULATION;
    }

    @Override
    public void reward(Outcome outcome) {}
  }

  static Stream<Arguments> drafters() {
    return onEveryBackend(TestModels.drafters().map(Arguments::of));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("drafters")
  void shouldReproduceLlamaCppReferenceText(String backend, String kind) throws IOException {
    Fixture f = on(backend);
    LlamaModel model = f.model();
    String reference = Files.readString(TestModels.referenceOutput(), StandardCharsets.UTF_8);
    String completion =
        reference.substring("<s> Once upon a time".length(), reference.length() - 1);
    try (Drafter drafter = bundled(f, kind)) {
      SpeculativeDecoder decoder =
          new SpeculativeDecoder(
              model,
              f.pool(),
              drafter,
              () -> new StaticPolicy("static-5", Plan.tree(5, 32, 8, StopRule.NONE)),
              AcceptanceMode.LOSSLESS);
      int[] prompt = model.tokenizer().encodePrompt("Once upon a time");
      GenerationResult result = decoder.generate(greedy(prompt, 256), TokenSink.IGNORE);
      assertThat(model.tokenizer().decode(result.tokens())).isEqualTo(completion);
      assertThat(result.stats().meanAccepted()).isGreaterThan(1.0);
    }
  }

  private static Drafter bundled(Fixture f, String kind) {
    return TestModels.drafter(kind, f.model(), 1, f.pool().capacity());
  }

  private static GenerationRequest greedy(int[] prompt, int tokens) {
    return new GenerationRequest(prompt, tokens, SamplingParams.GREEDY);
  }
}
