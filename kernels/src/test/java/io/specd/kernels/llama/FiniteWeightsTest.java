package io.specd.kernels.llama;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.kernels.TestModels;
import io.specd.kernels.cpu.JavaBackend;
import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model file whose weights hold NaN is refused at load, not served. */
class FiniteWeightsTest {
  @TempDir Path dir;

  @Test
  void shouldRefuseAModelWhoseWeightsAreNaN() throws IOException {
    Path source = TestModels.stories260K();
    float[] norm = GgufFile.open(source).readFloats("output_norm.weight");
    byte[] file = Files.readAllBytes(source);
    int at = indexOf(file, littleEndian(norm));
    ByteBuffer.wrap(file, at, norm.length * 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN);
    Path broken = Files.write(dir.resolve("nan.gguf"), file);

    assertThatThrownBy(() -> LlamaModel.load(broken, new JavaBackend(1)))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("non-finite logits");
  }

  private static byte[] littleEndian(float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      bytes.putFloat(v);
    }
    return bytes.array();
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new IllegalStateException("output_norm.weight is not stored as float32");
  }
}
