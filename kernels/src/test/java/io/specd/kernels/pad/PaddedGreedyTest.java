package io.specd.kernels.pad;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.format.GgmlType;
import io.specd.kernels.llama.GgufWeightSource;
import io.specd.kernels.llama.LlamaConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A padded model decodes greedily exactly as its source: F32 padding against the source, and the
 * padded Q8_0 file against plain Q8_0 quantization of the source (pad with the source's sizes).
 */
class PaddedGreedyTest {
  @TempDir Path dir;

  @Test
  void aPaddedModelShouldDecodeLikeItsSource() throws IOException {
    Path padded = pad(128, 384, 7, GgmlType.F32, "padded-f32.gguf");
    assertSameGreedyTokens(TestModels.stories260K(), padded);
  }

  @Test
  void aPaddedQ8ModelShouldDecodeLikeThePlainQ8Model() throws IOException {
    Path plain = pad(64, 172, 5, GgmlType.Q8_0, "plain-q8.gguf");
    Path padded = pad(128, 384, 7, GgmlType.Q8_0, "padded-q8.gguf");
    assertSameGreedyTokens(plain, padded);
  }

  @Test
  void theFingerprintComputedOnTheHostShouldBeTheLoadedModels() throws IOException {
    PadPlan plan = PadPlan.of(config(), 128, 384, 7, GgmlType.Q8_0, 1);
    PaddedModel padded =
        ModelPadder.of(TestModels.stories260K(), plan).write(dir.resolve("p.gguf"), w -> {});
    try (PaddedDecoding loaded = new PaddedDecoding(padded.path())) {
      assertThat(loaded.model.fingerprint()).isEqualTo(padded.fingerprint());
    }
  }

  private void assertSameGreedyTokens(Path expectedModel, Path actualModel) {
    List<int[]> expected;
    try (PaddedDecoding source = new PaddedDecoding(expectedModel)) {
      expected = source.plain();
    }
    try (PaddedDecoding padded = new PaddedDecoding(actualModel)) {
      List<int[]> actual = padded.plain();
      for (int i = 0; i < expected.size(); i++) {
        assertThat(actual.get(i)).as("prompt %d", i).hasSize(PaddedDecoding.TOKENS);
        assertThat(actual.get(i)).as("prompt %d", i).containsExactly(expected.get(i));
      }
    }
  }

  private Path pad(int width, int ffn, int layers, GgmlType type, String name) throws IOException {
    PadPlan plan = PadPlan.of(config(), width, ffn, layers, type, 42);
    return ModelPadder.of(TestModels.stories260K(), plan).write(dir.resolve(name), w -> {}).path();
  }

  private static LlamaConfig config() {
    return GgufWeightSource.open(TestModels.stories260K()).config();
  }
}
