package io.specd.kernels.format;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Llama 3.1's RoPE frequency factors ({@code rope_freqs.weight}) change every position's rotation:
 * factors of one leave the model as it was; other factors change its logits, identically on both
 * backends.
 */
class RopeFrequencyFactorsTest {
  @TempDir Path dir;

  @Test
  void factorsShouldRescaleEveryRotationOnBothBackends() throws IOException {
    GgufFile stories = GgufFile.open(TestModels.stories260K());
    int pairs = 4; // head size 8
    Path unit =
        GgufWriter.copyOf(stories)
            .tensorF32("rope_freqs.weight", new float[] {1, 1, 1, 1}, pairs)
            .write(dir.resolve("unit.gguf"));
    Path scaled =
        GgufWriter.copyOf(stories)
            .tensorF32("rope_freqs.weight", new float[] {1, 2, 4, 8}, pairs)
            .write(dir.resolve("scaled.gguf"));
    float[] original = logits(TestModels.stories260K(), "java");
    assertThat(logits(unit, "java")).containsExactly(original);
    float[] java = logits(scaled, "java");
    float[] torch = logits(scaled, "torch");
    assertThat(maxDifference(java, original))
        .as("the factors change the logits")
        .isGreaterThan(0.01f);
    assertThat(maxDifference(java, torch)).as("java against torch").isLessThan(1e-3f);
  }

  /** The last prompt token's logits after a prompt long enough for positions to matter. */
  private static float[] logits(Path model, String backend) {
    try (LlamaModel loaded = LlamaModel.load(model, TestModels.backend(backend));
        KvCachePool pool = loaded.newCachePool(1, 64)) {
      int[] prompt =
          loaded
              .tokenizer()
              .encodePrompt("Once upon a time, there was a little girl named Lily. She loved");
      float[] logits =
          loaded
              .forward(
                  SequenceInput.causal(pool.allocate(), prompt),
                  ForwardOptions.lastLogits(loaded.config()))
              .logits();
      return Arrays.copyOf(logits, loaded.config().vocabularySize());
    }
  }

  private static float maxDifference(float[] a, float[] b) {
    float worst = 0;
    for (int i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
    }
    return worst;
  }
}
