package io.specd.kernels.spec;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.sample.Sampler;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import io.specd.policies.spec.StopRule;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Speculative sampling is lossless: with fixed seeds, the first three generated tokens of 20,000
 * speculative generations follow the target's own distribution of those three tokens, for every
 * drafter and both acceptance rules (the point-mass sibling scheme for top-k trees, rejection
 * sampling for Kangaroo's sampled chains). The reference distribution is exact: it is enumerated
 * with the target over the whole (top-p-restricted) support, not sampled.
 */
class LosslessSamplingTest {
  private static final int DRAWS = 20_000;
  private static final int TOKENS = 3;
  private static final SamplingParams NUCLEUS = new SamplingParams(0.8, 0, 0.9, 0);
  private static final SamplingParams TOP_K_NUCLEUS = new SamplingParams(1.0, 8, 0.95, 0);

  /** The chi-square quantile at p = 0.999 is checked with the Wilson–Hilferty approximation. */
  private static final double Z_999 = 3.0902;

  private static final Map<String, KvCachePool> POOLS = new HashMap<>();
  private static final Map<String, Map<SamplingParams, Map<List<Integer>, Double>>> EXACT =
      new HashMap<>();
  private static TestModels.PerBackend models;
  private static String backend;
  private static LlamaModel model;
  private static KvCachePool pool;
  private static int[] prompt;
  private static String context; // the backend and the prompt: what the enumerations are of

  @BeforeAll
  static void load() {
    models = new TestModels.PerBackend(TestModels.stories260K());
  }

  /** Runs the test on a backend, after a prompt. */
  private static void use(String name, String promptText) {
    backend = name;
    model = models.get(name);
    pool = POOLS.computeIfAbsent(name, b -> model.newCachePool(1, 128));
    prompt = model.tokenizer().encodePrompt(promptText);
    context = name + "\n" + promptText;
  }

  /** The target's exact distribution of the first tokens under a warping, enumerated once. */
  private static Map<List<Integer>, Double> exact(SamplingParams warping) {
    return EXACT
        .computeIfAbsent(context, c -> new HashMap<>())
        .computeIfAbsent(
            warping,
            w -> {
              Map<List<Integer>, Double> outcomes = new HashMap<>();
              enumerate(new ArrayList<>(), 1.0, w, outcomes);
              assertThat(outcomes.values().stream().mapToDouble(Double::doubleValue).sum())
                  .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
              return outcomes;
            });
  }

  @AfterAll
  static void close() {
    POOLS.values().forEach(KvCachePool::close);
    models.close();
  }

  /** Adds every continuation of {@code prefix} to {@code outcomes}, with its probability. */
  private static void enumerate(
      List<Integer> prefix,
      double probability,
      SamplingParams warping,
      Map<List<Integer>, Double> outcomes) {
    if (prefix.size() == TOKENS) {
      outcomes.put(List.copyOf(prefix), probability);
      return;
    }
    float[] p = Sampler.distribution(nextLogits(prefix), warping);
    for (int token = 0; token < p.length; token++) {
      if (p[token] > 0) {
        prefix.add(token);
        enumerate(prefix, probability * p[token], warping, outcomes);
        prefix.remove(prefix.size() - 1);
      }
    }
  }

  private static float[] nextLogits(List<Integer> generated) {
    int[] tokens = Arrays.copyOf(prompt, prompt.length + generated.size());
    for (int i = 0; i < generated.size(); i++) {
      tokens[prompt.length + i] = generated.get(i);
    }
    KvCache cache = pool.allocate();
    try {
      return Arrays.copyOf(
          model
              .forward(
                  SequenceInput.causal(cache, tokens), ForwardOptions.lastLogits(model.config()))
              .logits(),
          model.config().vocabularySize());
    } finally {
      cache.release();
    }
  }

  static Stream<Arguments> drafters() {
    return TestModels.backends().flatMap(b -> cases().map(c -> withBackend(b, c)));
  }

  private static Arguments withBackend(String backend, Arguments c) {
    Object[] values = new Object[c.get().length + 1];
    values[0] = backend;
    System.arraycopy(c.get(), 0, values, 1, c.get().length);
    return Arguments.of(values);
  }

  /**
   * A prompt, and how many of its continuations the chi-square test must see expected 5 times or
   * more (its degrees of freedom + 1), so that the test has power.
   */
  private record Prompt(String text, int outcomes) {
    @Override
    public String toString() {
      return text.length() > 12 ? text.substring(0, 12) + "…" : text;
    }
  }

  private static Stream<Arguments> cases() {
    Prompt varied = new Prompt("The", 22); // a prompt whose continuations vary
    // for lookup: a text whose next tokens the model most often copies from earlier in it, which
    // makes its likely continuations few
    Prompt repetitive =
        new Prompt(
            "Once upon a time, there was a little girl named Lily. Once upon a time, there was a"
                + " little girl named Lily. Once upon a time, there was a little",
            8);
    return Stream.of(
        Arguments.of("medusa", "tree", Plan.tree(2, 16, 8, StopRule.NONE), NUCLEUS, varied),
        Arguments.of("clover", "tree", Plan.tree(2, 6, 3, StopRule.NONE), NUCLEUS, varied),
        Arguments.of(
            "kangaroo", "sampled chain", Plan.chain(2, StopRule.NONE), TOP_K_NUCLEUS, varied),
        Arguments.of("kangaroo", "tree", Plan.tree(2, 4, 2, StopRule.NONE), NUCLEUS, varied),
        Arguments.of(
            "lookup", "tree", Plan.tree(2, 4, 2, StopRule.NONE), TOP_K_NUCLEUS, repetitive),
        Arguments.of(
            "kangaroo+lookup",
            "sampled chain",
            Plan.chain(2, StopRule.NONE),
            TOP_K_NUCLEUS,
            repetitive));
  }

  @ParameterizedTest(name = "{0}: {1} {2} {4}")
  @MethodSource("drafters")
  void firstTokensShouldFollowTheTargetDistribution(
      String backend, String kind, String shape, Plan plan, SamplingParams warping, Prompt text) {
    use(backend, text.text());
    Map<List<Integer>, Double> exact = exact(warping);
    Map<List<Integer>, Integer> counts = new HashMap<>();
    long accepted = 0;
    try (Drafter drafter = bundled(kind)) {
      SpeculativeDecoder decoder =
          new SpeculativeDecoder(
              model, pool, drafter, () -> new StaticPolicy(shape, plan), AcceptanceMode.LOSSLESS);
      for (int seed = 0; seed < DRAWS; seed++) {
        var result = decoder.generate(request(warping, seed), TokenSink.IGNORE);
        List<Integer> key = Arrays.stream(result.tokens()).boxed().toList();
        counts.merge(key, 1, Integer::sum);
        accepted += result.stats().acceptedTokens();
      }
    }
    // not vacuous: speculation accepted drafts in a good share of the draws
    assertThat(accepted).as("draft tokens accepted").isGreaterThan(DRAWS / 100);
    assertThat(counts.keySet())
        .as("outcomes outside the target's support")
        .isSubsetOf(exact.keySet());

    // Pearson's chi-square over outcomes expected at least 5 times, the rest pooled in one bin
    double chiSquare = 0;
    int bins = 0;
    double pooledExpected = 0;
    long pooledObserved = 0;
    for (Map.Entry<List<Integer>, Double> outcome : exact.entrySet()) {
      double expected = outcome.getValue() * DRAWS;
      int observed = counts.getOrDefault(outcome.getKey(), 0);
      if (expected >= 5) {
        chiSquare += (observed - expected) * (observed - expected) / expected;
        bins++;
      } else {
        pooledExpected += expected;
        pooledObserved += observed;
      }
    }
    if (pooledExpected > 0) {
      chiSquare +=
          (pooledObserved - pooledExpected) * (pooledObserved - pooledExpected) / pooledExpected;
      bins++;
    }
    int freedom = bins - 1;
    double critical =
        freedom * Math.pow(1 - 2.0 / (9 * freedom) + Z_999 * Math.sqrt(2.0 / (9 * freedom)), 3);
    assertThat(bins).as("distinct outcomes tested").isGreaterThanOrEqualTo(text.outcomes());
    assertThat(chiSquare).as("chi-square with %d degrees of freedom", freedom).isLessThan(critical);
  }

  @ParameterizedTest(name = "{0}: {1} {2} {4}")
  @MethodSource("drafters")
  void theSameSeedShouldGiveTheSameOutput(
      String backend, String kind, String shape, Plan plan, SamplingParams warping, Prompt text) {
    use(backend, text.text());
    try (Drafter drafter = bundled(kind)) {
      SpeculativeDecoder decoder =
          new SpeculativeDecoder(
              model, pool, drafter, () -> new StaticPolicy(shape, plan), AcceptanceMode.LOSSLESS);
      GenerationRequest request = new GenerationRequest(prompt, 48, warping);
      int[] first = decoder.generate(request, TokenSink.IGNORE).tokens();
      int[] second = decoder.generate(request, TokenSink.IGNORE).tokens();
      assertThat(second).containsExactly(first);
      GenerationRequest other =
          new GenerationRequest(prompt, 48, new SamplingParams(0.8, 0, 0.9, 1));
      assertThat(decoder.generate(other, TokenSink.IGNORE).tokens()).isNotEqualTo(first);
    }
  }

  /** Plain sampling itself matches the enumeration (a check on the reference). */
  @ParameterizedTest
  @MethodSource("io.specd.kernels.TestModels#backends")
  void plainSamplingShouldMatchTheEnumeration(String backend) {
    use(backend, "The");
    Map<List<Integer>, Double> exact = exact(NUCLEUS);
    AutoregressiveDecoder plain = new AutoregressiveDecoder(model, pool);
    Map<List<Integer>, Integer> counts = new HashMap<>();
    for (int seed = 0; seed < 2_000; seed++) {
      int[] tokens = plain.generate(request(NUCLEUS, seed), TokenSink.IGNORE).tokens();
      counts.merge(Arrays.stream(tokens).boxed().toList(), 1, Integer::sum);
    }
    List<Integer> likeliest =
        exact.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    assertThat(counts.get(likeliest) / 2_000.0)
        .isCloseTo(exact.get(likeliest), org.assertj.core.data.Offset.offset(0.04));
    assertThat(counts.keySet()).isSubsetOf(exact.keySet());
  }

  private static GenerationRequest request(SamplingParams warping, long seed) {
    return new GenerationRequest(
        prompt,
        TOKENS,
        new SamplingParams(warping.temperature(), warping.topK(), warping.topP(), seed));
  }

  private static Drafter bundled(String kind) {
    return TestModels.drafter(kind, model, 1, pool.capacity());
  }
}
