package io.specd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.format.GgufFile;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.heads.HeadsBeside;
import io.specd.kernels.store.ModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code specd pad}, run in process as a user runs it. */
class PadCommandTest {
  @TempDir Path dir;

  private static String model() {
    return ModelStore.standard().findLocal().orElseThrow().toString();
  }

  @Test
  void padShouldWriteTheModelAndItsHeadsBesideIt() throws Exception {
    Path out = dir.resolve("wide.gguf");
    GenerateCommandTest.Outcome outcome =
        GenerateCommandTest.run(
            "pad",
            "--model",
            model(),
            "--width",
            "128",
            "--ffn",
            "384",
            "--layers",
            "7",
            "--type",
            "q8_0",
            "--seed",
            "5",
            "--out",
            out.toString());
    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    GgufFile file = GgufFile.open(out);
    assertThat(file.integer("llama.embedding_length")).isEqualTo(128);
    assertThat(file.integer("llama.block_count")).isEqualTo(7);
    assertThat(file.tensor("blk.0.attn_q.weight").typeName()).isEqualTo("Q8_0");
    for (DrafterKind kind : DrafterKind.values()) {
      assertThat(HeadsBeside.find(kind, out)).as(kind.id()).isPresent();
      assertThat(dir.resolve("wide.heads").resolve(kind.id() + ".safetensors")).exists();
    }
    assertThat(outcome.err())
        .contains("wrote " + out)
        .contains("parameters")
        .contains("MiB")
        .contains("the source's 5 layers are at [0, 2, 3, 5, 6]")
        .contains("kangaroo heads: " + dir.resolve("wide.heads").resolve("kangaroo.json"));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "32|384|7|f32|width 32 is smaller than the source's embedding length 64",
        "100|384|7|f32|width 100 is not a multiple of the head size 8",
        "128|100|7|f32|ffn 100 is smaller than the source's feed-forward length 172",
        "128|384|4|f32|layers 4 is smaller than the source's layer count 5",
        "128|384|7|q4_0|unknown --type 'q4_0'; use f32 or q8_0"
      })
  void badSizesShouldBeRefusedInOneLine(
      String width, String ffn, String layers, String type, String message) {
    Path out = dir.resolve("bad.gguf");
    GenerateCommandTest.Outcome outcome =
        GenerateCommandTest.run(
            "pad",
            "--model",
            model(),
            "--width",
            width,
            "--ffn",
            ffn,
            "--layers",
            layers,
            "--type",
            type,
            "--out",
            out.toString());
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err()).isEqualTo("specd: " + message + System.lineSeparator());
    assertThat(out).doesNotExist();
  }

  @Test
  void anUnknownHeadKindShouldBeRefusedByName() {
    GenerateCommandTest.Outcome outcome =
        GenerateCommandTest.run(
            "pad",
            "--model",
            model(),
            "--width",
            "128",
            "--ffn",
            "384",
            "--layers",
            "7",
            "--heads",
            "eagle=x.json",
            "--out",
            dir.resolve("x.gguf").toString());
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err())
        .isEqualTo(
            "specd: unknown head kind 'eagle' in --heads; use medusa, clover or kangaroo"
                + System.lineSeparator());
    assertThat(Files.exists(dir.resolve("x.gguf"))).isFalse();
  }
}
