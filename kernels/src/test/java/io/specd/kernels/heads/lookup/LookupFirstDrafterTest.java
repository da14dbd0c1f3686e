package io.specd.kernels.heads.lookup;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.GenerationResult;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.SpeculativeDecoder;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import io.specd.policies.spec.StopRule;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A head drafter with prompt lookup first drafts at least as well as either alone: the head
 * drafter's state follows the steps lookup drafted (a Kangaroo adapter that missed their positions
 * would draft worse than Kangaroo alone).
 */
class LookupFirstDrafterTest {
  private static final List<String> PROMPTS =
      List.of(
          "Once upon a time",
          "Tom said: I like red. Tom said: I like red. Tom said:",
          "Lily sang: la la la la la la la la la la la la",
          "The dog wanted to find a friend",
          "Ben said hello. Ben said hello. Ben said hello. Ben said");

  private static LlamaModel model;
  private static KvCachePool pool;

  @BeforeAll
  static void load() {
    model = TestModels.loadStories260K("java");
    pool = model.newCachePool(1, 256);
  }

  @AfterAll
  static void close() {
    pool.close();
    model.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"kangaroo", "clover", "medusa"})
  void shouldCommitAtLeastAsManyTokensAStepAsEitherDrafterAlone(String kind) {
    double alone = tokensPerStep(kind);
    double lookup = tokensPerStep(LookupDrafter.NAME);
    double both = tokensPerStep(kind + LookupFirstDrafter.SUFFIX);
    assertThat(both)
        .as("tokens a step: %s %.3f, lookup %.3f", kind, alone, lookup)
        .isGreaterThanOrEqualTo(Math.max(alone, lookup));
  }

  /** Greedy over the prompts with a 3-token chain: the mean committed tokens a step. */
  private static double tokensPerStep(String drafter) {
    Plan plan = Plan.chain(3, StopRule.NONE);
    long tokens = 0;
    long steps = 0;
    try (Drafter d = TestModels.drafter(drafter, model, 1, pool.capacity())) {
      SpeculativeDecoder decoder =
          new SpeculativeDecoder(
              model, pool, d, () -> new StaticPolicy("static-3", plan), AcceptanceMode.LOSSLESS);
      for (String prompt : PROMPTS) {
        int[] tokensIn = model.tokenizer().encodePrompt(prompt);
        GenerationResult result =
            decoder.generate(
                new GenerationRequest(tokensIn, 128, SamplingParams.GREEDY), TokenSink.IGNORE);
        tokens += result.tokens().length - 1; // the prefill's token is not a step's
        steps += result.stats().steps();
      }
    }
    return (double) tokens / steps;
  }
}
