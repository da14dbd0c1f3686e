package io.specd.kernels.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.kernels.TestModels;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.torch.TorchBackend;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GGUF reader on the real model and on every kind of damaged file. */
class GgufFileTest {
  @TempDir Path dir;

  @Test
  void shouldReadTheRealModelsHeader() {
    GgufFile file = GgufFile.open(TestModels.stories260K());
    assertThat(file.version()).isEqualTo(3);
    assertThat(file.tensors()).hasSize(48);
    assertThat(file.string("general.architecture")).isEqualTo("llama");
    assertThat(file.integer("llama.attention.head_count_kv")).isEqualTo(4);
    assertThat(file.strings("tokenizer.ggml.tokens"))
        .hasSize(512)
        .startsWith("<unk>", "<s>", "</s>");
    assertThat(file.tensor("blk.0.attn_k.weight").rowMajorShape()).containsExactly(32, 64);
  }

  @Test
  void shouldRejectAFileWithAWrongMagic() throws IOException {
    Path path = Files.write(dir.resolve("model.gguf"), "PK\u0003\u0004 this is a zip".getBytes());
    assertThatThrownBy(() -> GgufFile.open(path))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(path.toString())
        .hasMessageContaining("not a GGUF file: the magic is 0x04034b50 (\"PK..\")");
  }

  @Test
  void shouldRejectAnUnsupportedVersion() throws IOException {
    Path path = new GgufWriter().version(1).write(dir.resolve("v1.gguf"));
    assertThatThrownBy(() -> GgufFile.open(path))
        .isInstanceOf(ModelFormatException.class)
        .hasMessage(path + ": unsupported GGUF version 1 (specd reads versions 2 and 3)");
  }

  @Test
  void shouldRejectAnEmptyFile() throws IOException {
    Path path = Files.write(dir.resolve("empty.gguf"), new byte[0]);
    assertThatThrownBy(() -> GgufFile.open(path))
        .isInstanceOf(ModelFormatException.class)
        .hasMessage(path + ": not a GGUF file: it has 0 bytes, fewer than the 4-byte magic");
  }

  @Test
  void shouldRejectAFileTruncatedAnywhere() throws IOException {
    byte[] full = Files.readAllBytes(TestModels.stories260K());
    // in the header, in the metadata, in the tensor table, and in the tensor data
    for (int length : new int[] {10, 20, 500, 9000, 14000, 500_000, full.length - 1}) {
      Path path = Files.write(dir.resolve("cut" + length + ".gguf"), Arrays.copyOf(full, length));
      assertThatThrownBy(() -> GgufFile.open(path))
          .as("file cut at %d bytes", length)
          .isInstanceOf(ModelFormatException.class)
          .hasMessageStartingWith(path + ": truncated");
    }
  }

  @Test
  void shouldNameTheTruncatedTensor() throws IOException {
    byte[] full = Files.readAllBytes(TestModels.stories260K());
    Path path = Files.write(dir.resolve("cut.gguf"), Arrays.copyOf(full, full.length - 100));
    assertThatThrownBy(() -> GgufFile.open(path))
        .hasMessage(
            path
                + ": truncated: tensor 'blk.4.ffn_norm.weight' needs bytes up to "
                + full.length
                + " but the file has "
                + (full.length - 100));
  }

  @Test
  void shouldRejectAnAbsurdStringLength() throws IOException {
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0x46554747).putInt(3).putLong(0).putLong(1).putLong(Long.MAX_VALUE / 2);
    Path path = Files.write(dir.resolve("absurd.gguf"), b.array());
    assertThatThrownBy(() -> GgufFile.open(path))
        .hasMessageStartingWith(path + ": truncated or corrupt: length of metadata key #0 is");
  }

  @Test
  void shouldNameAnUnsupportedTensorTypeWhenLoading() throws IOException {
    GgufFile real = GgufFile.open(TestModels.stories260K());
    Path path =
        GgufWriter.copyOf(real)
            .remove("blk.1.attn_q.weight")
            .tensor("blk.1.attn_q.weight", GgmlType.IQ4_NL.id(), new byte[18 * 8 * 16], 256, 16)
            .write(dir.resolve("iq4nl.gguf"));
    String message =
        path
            + ": tensor 'blk.1.attn_q.weight' has type IQ4_NL, which specd does not read"
            + " (supported: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K,"
            + " BF16)";
    assertThatThrownBy(() -> LlamaModel.load(path, TorchBackend.cpu()))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("blk.1.attn_q.weight");
    assertThatThrownBy(() -> GgufFile.open(path).readFloats("blk.1.attn_q.weight"))
        .isInstanceOf(ModelFormatException.class)
        .hasMessage(message);
    assertThatThrownBy(() -> GgufFile.open(path).tensorBytes("blk.1.attn_q.weight"))
        .isInstanceOf(ModelFormatException.class)
        .hasMessage(message);
  }

  @Test
  void shouldNameAMissingTensorForItsBytes() {
    Path path = TestModels.stories260K();
    assertThatThrownBy(() -> GgufFile.open(path).tensorBytes("blk.9.attn_q.weight"))
        .isInstanceOf(ModelFormatException.class)
        .hasMessage(path + ": missing tensor 'blk.9.attn_q.weight'");
  }

  @Test
  void shouldNameAMissingTensorWhenLoading() throws IOException {
    Path path =
        GgufWriter.copyOf(GgufFile.open(TestModels.stories260K()))
            .remove("blk.3.ffn_up.weight")
            .write(dir.resolve("missing.gguf"));
    assertThatThrownBy(() -> LlamaModel.load(path, TorchBackend.cpu()))
        .isInstanceOf(ModelFormatException.class)
        .hasMessage(path + ": missing tensor 'blk.3.ffn_up.weight'");
  }

  @Test
  void shouldNameAForeignArchitecture() throws IOException {
    Path path =
        GgufWriter.copyOf(GgufFile.open(TestModels.stories260K()))
            .put("general.architecture", "gpt2")
            .write(dir.resolve("gpt2.gguf"));
    assertThatThrownBy(() -> LlamaModel.load(path, TorchBackend.cpu()))
        .isInstanceOf(ModelFormatException.class)
        .hasMessage(
            path + ": architecture 'gpt2' is not supported (specd runs llama and qwen2 models)");
  }

  @Test
  void shouldNameAMissingFile() {
    Path path = dir.resolve("nowhere.gguf");
    assertThatThrownBy(() -> LlamaModel.load(path, TorchBackend.cpu()))
        .isInstanceOf(ModelFormatException.class)
        .hasMessage(path + ": no such model file or directory");
  }

  @Test
  void shouldDequantizeF16Bf16AndQ8() throws IOException {
    float[] values = new float[64];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) Math.sin(i * 0.37) * (i % 7 + 1);
    }
    Path path =
        new GgufWriter()
            .tensorF32("f32", values, 32, 2)
            .tensorF16("f16", values, 32, 2)
            .tensorBF16("bf16", values, 32, 2)
            .tensorQ8("q8", values, 32, 2)
            .write(dir.resolve("types.gguf"));
    GgufFile file = GgufFile.open(path);
    assertThat(file.readFloats("f32")).containsExactly(values);
    float[] f16 = file.readFloats("f16");
    float[] bf16 = file.readFloats("bf16");
    float[] q8 = file.readFloats("q8");
    for (int i = 0; i < values.length; i++) {
      assertThat(f16[i])
          .isCloseTo(
              values[i], org.assertj.core.data.Offset.offset(Math.abs(values[i]) / 1000 + 1e-4f));
      assertThat(bf16[i])
          .isCloseTo(
              values[i], org.assertj.core.data.Offset.offset(Math.abs(values[i]) / 100 + 1e-4f));
      assertThat(q8[i]).isCloseTo(values[i], org.assertj.core.data.Offset.offset(7f / 127 + 1e-3f));
    }
  }

  @Test
  void aQ8ModelShouldPredictLikeTheF32Model() throws IOException {
    GgufFile real = GgufFile.open(TestModels.stories260K());
    GgufWriter quantized = GgufWriter.copyOf(real);
    for (GgufTensorInfo info : real.tensors().values()) {
      long[] dims = info.dimensions();
      if (dims.length == 2 && dims[0] % 32 == 0) {
        quantized.remove(info.name()).tensorQ8(info.name(), real.readFloats(info.name()), dims);
      }
    }
    Path path = quantized.write(dir.resolve("q8.gguf"));
    try (LlamaModel f32 = LlamaModel.load(TestModels.stories260K(), TorchBackend.cpu());
        LlamaModel q8 = LlamaModel.load(path, TorchBackend.cpu())) {
      assertThat(GgufFile.open(path).tensor("blk.0.attn_q.weight").typeName()).isEqualTo("Q8_0");
      int[] prompt = f32.tokenizer().encodePrompt("Once upon a time");
      assertThat(Probe.nextToken(q8, prompt)).isEqualTo(Probe.nextToken(f32, prompt));
    }
  }
}
