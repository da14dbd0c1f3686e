package io.specd.kernels.pad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.kernels.TestModels;
import io.specd.kernels.format.GgmlType;
import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.GgufValueType;
import io.specd.kernels.llama.GgufWeightSource;
import io.specd.kernels.llama.LlamaConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The padded file's structure: metadata, shapes, the regions that must be zero, scaled norms. */
class ModelPadderTest {
  private static final int WIDTH = 128;
  private static final int FFN = 384;
  private static final int LAYERS = 7;

  @TempDir static Path dir;
  private static GgufFile source;
  private static LlamaConfig config;
  private static PaddedModel padded;
  private static GgufFile file;
  private static long reportedParameters;

  @BeforeAll
  static void pad() throws IOException {
    source = GgufFile.open(TestModels.stories260K());
    config = GgufWeightSource.open(TestModels.stories260K()).config();
    PadPlan plan = PadPlan.of(config, WIDTH, FFN, LAYERS, GgmlType.F32, 7);
    AtomicLong progress = new AtomicLong();
    padded =
        ModelPadder.of(TestModels.stories260K(), plan)
            .write(dir.resolve("padded.gguf"), progress::addAndGet);
    reportedParameters = progress.get();
    file = GgufFile.open(padded.path());
  }

  @Test
  void shouldRecordThePaddedSizesInTheirStoredTypes() {
    assertThat(file.integer("llama.embedding_length")).isEqualTo(WIDTH);
    assertThat(file.integer("llama.feed_forward_length")).isEqualTo(FFN);
    assertThat(file.integer("llama.block_count")).isEqualTo(LAYERS);
    assertThat(file.integer("llama.attention.head_count")).isEqualTo(WIDTH / 8);
    assertThat(file.integer("llama.attention.head_count_kv")).isEqualTo(WIDTH / 16);
    assertThat(file.integer("llama.rope.dimension_count")).isEqualTo(8);
    assertThat(file.optionalReal("llama.attention.layer_norm_rms_epsilon").orElseThrow())
        .isEqualTo((double) (config.rmsNormEps() / 2));
    assertThat(file.string("general.name"))
        .isEqualTo("llama padded to width 128, ffn 384, 7 layers");
    assertThat(file.strings("tokenizer.ggml.tokens"))
        .isEqualTo(source.strings("tokenizer.ggml.tokens"));
    for (String key : source.metadata().keySet()) {
      assertThat(file.typedMetadata().get(key).type())
          .as(key)
          .isEqualTo(source.typedMetadata().get(key).type());
    }
    assertThat(file.typedMetadata().get("general.file_type").type())
        .isEqualTo(GgufValueType.UINT32);
  }

  @Test
  void shouldSpreadTheDeadLayersBetweenTheRealOnes() {
    assertThat(padded.plan().realLayers()).containsExactly(0, 2, 3, 5, 6);
    assertThat(file.metadata().get("specd.padding.real_layers"))
        .isEqualTo(new long[] {0, 2, 3, 5, 6});
    assertThat(padded.plan().paddedExitLayer(1)).isEqualTo(1);
    assertThat(padded.plan().paddedExitLayer(2)).isEqualTo(3);
  }

  @Test
  void shouldHaveThePaddedShapesAndCountEveryWeight() {
    assertThat(file.tensors()).hasSize(3 + 9 * LAYERS);
    assertThat(shape("token_embd.weight")).containsExactly(512, WIDTH);
    assertThat(shape("output.weight")).containsExactly(512, WIDTH);
    assertThat(shape("blk.6.attn_q.weight")).containsExactly(WIDTH, WIDTH);
    assertThat(shape("blk.1.attn_k.weight")).containsExactly(WIDTH / 2, WIDTH);
    assertThat(shape("blk.3.attn_output.weight")).containsExactly(WIDTH, WIDTH);
    assertThat(shape("blk.4.ffn_gate.weight")).containsExactly(FFN, WIDTH);
    assertThat(shape("blk.4.ffn_down.weight")).containsExactly(WIDTH, FFN);
    assertThat(shape("blk.0.ffn_norm.weight")).containsExactly(WIDTH);
    long weights = file.tensors().values().stream().mapToLong(t -> t.elementCount()).sum();
    assertThat(padded.parameters()).isEqualTo(weights).isEqualTo(reportedParameters);
    assertThat(padded.fileSize()).isEqualTo(padded.path().toFile().length());
  }

  @Test
  void shouldCopyTheEmbeddingAndKeepItsExtraColumnsZero() {
    float[] before = source.readFloats("token_embd.weight");
    float[] after = file.readFloats("token_embd.weight");
    for (int token = 0; token < 512; token++) {
      for (int c = 0; c < WIDTH; c++) {
        float expected = c < 64 ? before[token * 64 + c] : 0f;
        assertThat(after[token * WIDTH + c]).isEqualTo(expected);
      }
    }
    float[] lmHead = file.readFloats("output.weight");
    assertThat(realBlock(lmHead, WIDTH, 512, 64))
        .containsExactly(source.readFloats("output.weight"));
    assertRandom(extraColumns(lmHead, 512, WIDTH, 64));
  }

  @Test
  void shouldZeroWhatWritesTheResidualStreamAndRandomiseWhatReadsIt() {
    int[] real = padded.plan().realLayers();
    for (int s = 0; s < real.length; s++) {
      String from = "blk." + s + ".";
      String to = "blk." + real[s] + ".";
      float[] output = file.readFloats(to + "attn_output.weight");
      assertThat(realBlock(output, WIDTH, 64, 64))
          .containsExactly(source.readFloats(from + "attn_output.weight"));
      assertThat(zerosOutside(output, WIDTH, WIDTH, 64, 64)).as(to + "attn_output").isTrue();
      float[] down = file.readFloats(to + "ffn_down.weight");
      assertThat(realBlock(down, FFN, 64, 172))
          .containsExactly(source.readFloats(from + "ffn_down.weight"));
      assertThat(zerosOutside(down, WIDTH, FFN, 64, 172)).as(to + "ffn_down").isTrue();
      float[] key = file.readFloats(to + "attn_k.weight");
      assertThat(realBlock(key, WIDTH, 32, 64))
          .containsExactly(source.readFloats(from + "attn_k.weight"));
      assertRandom(extraColumns(key, 32, WIDTH, 64));
      float[] gate = file.readFloats(to + "ffn_gate.weight");
      assertThat(realBlock(gate, WIDTH, 172, 64))
          .containsExactly(source.readFloats(from + "ffn_gate.weight"));
      assertRandom(java.util.Arrays.copyOfRange(gate, 172 * WIDTH, gate.length));
    }
    for (int dead : new int[] {1, 4}) {
      assertThat(file.readFloats("blk." + dead + ".attn_output.weight")).containsOnly(0f);
      assertThat(file.readFloats("blk." + dead + ".ffn_down.weight")).containsOnly(0f);
      assertRandom(file.readFloats("blk." + dead + ".attn_q.weight"));
      assertRandom(file.readFloats("blk." + dead + ".ffn_up.weight"));
    }
  }

  @Test
  void shouldScaleEveryNormGainByTheRootOfTheWidthRatio() {
    float scale = (float) Math.sqrt(64.0 / WIDTH);
    assertThat(padded.plan().normScale()).isEqualTo(scale);
    float[] before = source.readFloats("blk.2.ffn_norm.weight");
    float[] after = file.readFloats("blk.3.ffn_norm.weight");
    for (int i = 0; i < WIDTH; i++) {
      assertThat(after[i]).isEqualTo(i < 64 ? before[i] * scale : scale);
    }
    float[] finalNorm = file.readFloats("output_norm.weight");
    assertThat(finalNorm[5]).isEqualTo(source.readFloats("output_norm.weight")[5] * scale);
    assertThat(file.readFloats("blk.1.attn_norm.weight")).containsOnly(scale);
  }

  @Test
  void shouldWriteQ8OnlyWhereRowsAreWholeBlocks() throws IOException {
    PadPlan plan = PadPlan.of(config, 64, 172, 5, GgmlType.Q8_0, 0);
    GgufFile quantized =
        GgufFile.open(
            ModelPadder.of(TestModels.stories260K(), plan)
                .write(dir.resolve("plain-q8.gguf"), weights -> {})
                .path());
    assertThat(quantized.tensor("blk.0.attn_q.weight").typeName()).isEqualTo("Q8_0");
    assertThat(quantized.tensor("blk.0.ffn_down.weight").typeName()).isEqualTo("F32");
    assertThat(quantized.tensor("blk.0.ffn_norm.weight").typeName()).isEqualTo("F32");
    assertThat(quantized.integer("general.file_type")).isEqualTo(7);
    // the rows of 172 cannot be Q8_0, but hold Q8_0's values: those of the padded Q8_0 file
    GgufFile wide =
        GgufFile.open(
            ModelPadder.of(
                    TestModels.stories260K(),
                    PadPlan.of(config, WIDTH, FFN, LAYERS, GgmlType.Q8_0, 0))
                .write(dir.resolve("padded-q8.gguf"), weights -> {})
                .path());
    assertThat(wide.tensor("blk.6.ffn_down.weight").typeName()).isEqualTo("Q8_0");
    assertThat(realBlock(wide.readFloats("blk.6.ffn_down.weight"), FFN, 64, 172))
        .containsExactly(quantized.readFloats("blk.4.ffn_down.weight"))
        .isNotEqualTo(source.readFloats("blk.4.ffn_down.weight"));
    assertThat(realBlock(wide.readFloats("blk.2.attn_q.weight"), WIDTH, 64, 64))
        .containsExactly(quantized.readFloats("blk.1.attn_q.weight"));
  }

  @Test
  void shouldRefuseSizesSmallerThanTheSourceOrNotInWholeHeads() {
    assertThatThrownBy(() -> PadPlan.of(config, 32, 384, 7, GgmlType.F32, 0))
        .hasMessage("width 32 is smaller than the source's embedding length 64");
    assertThatThrownBy(() -> PadPlan.of(config, 100, 384, 7, GgmlType.F32, 0))
        .hasMessage("width 100 is not a multiple of the head size 8");
    assertThatThrownBy(() -> PadPlan.of(config, 72, 384, 7, GgmlType.F32, 0))
        .hasMessage("width 72 gives 9 heads, not a multiple of the 2 query heads per KV head");
    assertThatThrownBy(() -> PadPlan.of(config, 128, 100, 7, GgmlType.F32, 0))
        .hasMessage("ffn 100 is smaller than the source's feed-forward length 172");
    assertThatThrownBy(() -> PadPlan.of(config, 128, 384, 4, GgmlType.F32, 0))
        .hasMessage("layers 4 is smaller than the source's layer count 5");
  }

  private static long[] shape(String name) {
    return file.tensor(name).rowMajorShape();
  }

  /** The top-left {@code [rows, cols]} of a row-major {@code [*, width]} matrix. */
  private static float[] realBlock(float[] matrix, int width, int rows, int cols) {
    float[] out = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(matrix, r * width, out, r * cols, cols);
    }
    return out;
  }

  private static float[] extraColumns(float[] matrix, int rows, int width, int cols) {
    float[] out = new float[rows * (width - cols)];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(matrix, r * width + cols, out, r * (width - cols), width - cols);
    }
    return out;
  }

  private static boolean zerosOutside(float[] matrix, int rows, int width, int realRows, int cols) {
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < width; c++) {
        if ((r >= realRows || c >= cols) && matrix[r * width + c] != 0f) {
          return false;
        }
      }
    }
    return true;
  }

  /** Values that should look like N(0, 0.02²) draws. */
  private static void assertRandom(float[] values) {
    double sum = 0;
    double squares = 0;
    for (float v : values) {
      sum += v;
      squares += v * v;
    }
    double mean = sum / values.length;
    double std = Math.sqrt(squares / values.length - mean * mean);
    assertThat(Math.abs(mean) < 0.005 && Math.abs(std - PadPlan.RANDOM_STD) < 0.003)
        .as("mean %f, std %f of %d random values", mean, std, values.length)
        .isTrue();
  }
}
