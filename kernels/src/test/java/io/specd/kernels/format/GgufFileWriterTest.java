package io.specd.kernels.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.kernels.TestModels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming GGUF writer against files llama.cpp's tools wrote. */
class GgufFileWriterTest {
  @TempDir Path dir;

  @Test
  void shouldRewriteTheRealModelByteForByte() throws IOException {
    GgufFile source = GgufFile.open(TestModels.stories260K());
    List<GgufFileWriter.TensorSpec> specs = new ArrayList<>();
    for (GgufTensorInfo info : source.tensors().values()) {
      specs.add(new GgufFileWriter.TensorSpec(info.name(), GgmlType.F32, info.dimensions()));
    }
    Path copy = dir.resolve("copy.gguf");
    try (GgufFileWriter writer = GgufFileWriter.create(copy, source.typedMetadata(), specs)) {
      for (GgufFileWriter.TensorSpec spec : specs) {
        writer.write(spec.name(), source.readFloats(spec.name()));
      }
      writer.finish();
    }
    assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(TestModels.stories260K()));
    assertThat(GgufFile.open(copy).typedMetadata().get("llama.block_count").type())
        .isEqualTo(GgufValueType.UINT32);
  }

  @Test
  void shouldQuantizeQ8LikeLlamaCppsQuantizer() throws IOException {
    Path synthetic = TestModels.synthetic("synth-256-Q8_0.gguf");
    GgufFile file = GgufFile.open(synthetic);
    int checked = 0;
    for (GgufTensorInfo info : file.tensors().values()) {
      if (info.typeId() != GgmlType.Q8_0.id()) {
        continue;
      }
      // ggml's dequantized values quantize back to the very bytes llama-quantize wrote
      ByteBuffer encoded = TensorEncoder.encode(GgmlType.Q8_0, file.readFloats(info.name()));
      assertThat(encoded).as(info.name()).isEqualTo(rawBytes(file, info));
      checked++;
    }
    assertThat(checked).isGreaterThan(10);
  }

  @Test
  void shouldRoundQ8HalvesAwayFromZeroAsCDoes() {
    float[] values = new float[32];
    values[0] = 127f; // d = 1, so every value is its own quantum
    values[1] = 2.5f;
    values[2] = -2.5f;
    values[3] = -0.5f;
    values[4] = 0.49999997f;
    ByteBuffer encoded = TensorEncoder.encode(GgmlType.Q8_0, values);
    assertThat(Float16.halfToFloat(encoded.getShort(0))).isEqualTo(1f);
    assertThat(new byte[] {encoded.get(2), encoded.get(3), encoded.get(4), encoded.get(5)})
        .containsExactly(127, 3, -3, -1);
    assertThat(encoded.get(6)).isZero();
  }

  @Test
  void shouldLeaveNothingBehindWhenNotFinished() throws IOException {
    Path path = dir.resolve("half.gguf");
    List<GgufFileWriter.TensorSpec> specs =
        List.of(
            new GgufFileWriter.TensorSpec("a", GgmlType.F32, new long[] {4}),
            new GgufFileWriter.TensorSpec("b", GgmlType.F32, new long[] {4}));
    try (GgufFileWriter writer =
        GgufFileWriter.create(path, Map.of("general.name", GgufValue.string("x")), specs)) {
      assertThatThrownBy(() -> writer.write("b", new float[4]))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("tensor 'b' is not the next to write ('a' is)");
      writer.write("a", new float[4]);
      assertThatThrownBy(writer::finish).hasMessageContaining("'b'");
    }
    try (var files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void shouldRefuseAValueThatDoesNotFitItsType() {
    Map<String, GgufValue> metadata =
        Map.of("n", new GgufValue(GgufValueType.UINT16, null, 70_000L));
    assertThatThrownBy(() -> GgufFileWriter.create(dir.resolve("x.gguf"), metadata, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("metadata 'n' = 70000 does not fit its type UINT16");
  }

  private static ByteBuffer rawBytes(GgufFile file, GgufTensorInfo info) throws IOException {
    GgmlType type = GgmlType.byId(info.typeId()).orElseThrow();
    ByteBuffer bytes =
        ByteBuffer.allocate(Math.toIntExact(type.byteSize(info.elementCount())))
            .order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel channel = FileChannel.open(file.path(), StandardOpenOption.READ)) {
      channel.read(bytes, file.dataOffset() + info.offset());
    }
    return bytes.flip();
  }
}
