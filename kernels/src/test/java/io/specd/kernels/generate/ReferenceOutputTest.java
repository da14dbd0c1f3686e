package io.specd.kernels.generate;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.policies.spec.FinishReason;
import io.specd.policies.spec.SamplingParams;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ReferenceOutputTest {
  private static TestModels.PerBackend models;

  @BeforeAll
  static void load() {
    models = new TestModels.PerBackend(TestModels.stories260K());
  }

  @AfterAll
  static void close() {
    models.close();
  }

  @Test
  void shouldTokenizeThePromptAsLlamaCppDoes() {
    assertThat(models.get("java").tokenizer().encodePrompt("Once upon a time"))
        .containsExactly(1, 403, 407, 261, 378);
  }

  @ParameterizedTest
  @MethodSource("io.specd.kernels.TestModels#backends")
  void shouldReproduceLlamaCppGreedyOutputTokenForToken(String backend) throws Exception {
    LlamaModel model = models.get(backend);
    String reference = Files.readString(TestModels.referenceOutput(), StandardCharsets.UTF_8);
    String prefix = "<s> Once upon a time";
    assertThat(reference).startsWith(prefix);
    // The file ends with a line break of its own: the 256 tokens end with "Lily".
    assertThat(reference).endsWith("Lily\n");
    String expectedCompletion = reference.substring(prefix.length(), reference.length() - 1);

    int[] prompt = model.tokenizer().encodePrompt("Once upon a time");
    try (KvCachePool pool = model.newCachePool(1, 512)) {
      GenerationResult result =
          new AutoregressiveDecoder(model, pool)
              .generate(
                  new GenerationRequest(prompt, 256, SamplingParams.GREEDY), TokenSink.IGNORE);
      assertThat(result.finishReason()).isEqualTo(FinishReason.MAX_TOKENS);
      assertThat(result.tokens()).hasSize(256);
      assertThat(model.tokenizer().decode(result.tokens())).isEqualTo(expectedCompletion);
    }
  }
}
