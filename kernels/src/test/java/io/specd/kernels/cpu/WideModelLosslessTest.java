package io.specd.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.GenerationResult;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.heads.HeadsBeside;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.SpeculativeDecoder;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import io.specd.policies.spec.StopRule;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * On a model wide enough for the java backend's encoded path (Q8_0 weights split on the heap, or
 * computed on in place from the mapping when the heap cannot hold them; products split across
 * threads; drafter matrices quantized on the heap), every drafter is still lossless, and the model
 * decodes like the narrow model it was padded from.
 */
class WideModelLosslessTest {
  private static final String[] PROMPTS = {
    "Once upon a time", "The little dog", "Lily and Tom went to the park. They saw a big"
  };
  private static final int TOKENS = 48;
  private static LlamaModel wide;
  private static KvCachePool pool;
  private static List<int[]> expected;

  @BeforeAll
  static void decodePlainly() {
    wide = LlamaModel.load(TestModels.paddedWide(), JavaBackend.automatic());
    pool = wide.newCachePool(1, 256);
    expected = new ArrayList<>();
    AutoregressiveDecoder plain = new AutoregressiveDecoder(wide, pool);
    for (String prompt : PROMPTS) {
      expected.add(plain.generate(request(prompt), TokenSink.IGNORE).tokens());
    }
  }

  @AfterAll
  static void close() {
    pool.close();
    wide.close();
  }

  @Test
  void shouldDecodeLikeTheNarrowModel() {
    try (LlamaModel narrow = TestModels.loadStories260K("java");
        KvCachePool narrowPool = narrow.newCachePool(1, 256)) {
      AutoregressiveDecoder plain = new AutoregressiveDecoder(narrow, narrowPool);
      for (int i = 0; i < PROMPTS.length; i++) {
        assertThat(expected.get(i))
            .as(PROMPTS[i])
            .containsExactly(plain.generate(request(PROMPTS[i]), TokenSink.IGNORE).tokens());
      }
    }
  }

  @Test
  void mappedQ8_0WeightsShouldDecodeLikeSplitOnes() {
    try (LlamaModel mapped = LlamaModel.load(TestModels.paddedWide(), new JavaBackend(0, 0));
        KvCachePool mappedPool = mapped.newCachePool(1, 256)) {
      AutoregressiveDecoder plain = new AutoregressiveDecoder(mapped, mappedPool);
      for (int i = 0; i < PROMPTS.length; i++) {
        assertThat(plain.generate(request(PROMPTS[i]), TokenSink.IGNORE).tokens())
            .as(PROMPTS[i])
            .containsExactly(expected.get(i));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(DrafterKind.class)
  void everyDrafterShouldBeLossless(DrafterKind kind) {
    Plan plan = Plan.tree(3, 12, 4, StopRule.NONE);
    try (Drafter drafter =
        kind.load(
            wide,
            HeadsBeside.find(kind, TestModels.paddedWide()).orElseThrow(),
            1,
            pool.capacity())) {
      SpeculativeDecoder decoder =
          new SpeculativeDecoder(
              wide, pool, drafter, () -> new StaticPolicy("tree", plan), AcceptanceMode.LOSSLESS);
      long accepted = 0;
      for (int i = 0; i < PROMPTS.length; i++) {
        GenerationResult result = decoder.generate(request(PROMPTS[i]), TokenSink.IGNORE);
        assertThat(result.tokens()).as(PROMPTS[i]).containsExactly(expected.get(i));
        accepted += result.stats().acceptedTokens();
      }
      assertThat(accepted).as("draft tokens accepted").isPositive();
    }
  }

  /** A prompt of the test, greedy (both models share stories260K's tokenizer). */
  private static GenerationRequest request(String prompt) {
    return new GenerationRequest(
        wide.tokenizer().encodePrompt(prompt), TOKENS, SamplingParams.GREEDY);
  }
}
