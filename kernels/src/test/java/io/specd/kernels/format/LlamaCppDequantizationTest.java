package io.specd.kernels.format;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.specd.kernels.TestModels;
import io.specd.kernels.quant.RowKernel;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every tensor of the llama.cpp-quantized synthetic models dequantizes to ggml's own values: the
 * first and last 16 exactly, the sum and sum of squares to float rounding ({@code
 * synthetic/*.dequant.json} were written from ggml's reference dequantization).
 */
class LlamaCppDequantizationTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<String> files() {
    return Stream.of("Q4_0", "Q4_1", "Q5_0", "Q8_0", "Q2_K", "Q4_K_M", "Q5_K_M", "Q6_K")
        .map(type -> "synth-256-" + type);
  }

  @ParameterizedTest
  @MethodSource("files")
  void shouldReproduceGgmlsDequantizedValues(String model) throws IOException {
    GgufFile file = GgufFile.open(TestModels.synthetic(model + ".gguf"));
    JsonNode reference =
        JSON.readTree(Files.readString(TestModels.synthetic(model + ".dequant.json")));
    assertThat(reference.get("tensors")).hasSize(file.tensors().size());
    for (JsonNode expected : reference.get("tensors")) {
      String name = expected.get("name").asText();
      TensorBytes bytes = file.tensorBytes(name);
      assertThat(bytes.type().name()).as(name).isEqualTo(expected.get("type").asText());
      assertThat(bytes.rowLength()).as(name).isEqualTo(expected.get("ne").get(0).asInt());

      float[] values = new float[Math.toIntExact(bytes.rows() * bytes.rowLength())];
      bytes.dequantizeRows(0, (int) bytes.rows(), values, 0);
      assertThat(Arrays.copyOf(values, 16)).as(name).containsExactly(floats(expected.get("first")));
      assertThat(Arrays.copyOfRange(values, values.length - 16, values.length))
          .as(name)
          .containsExactly(floats(expected.get("last")));
      double sum = 0;
      double sumOfSquares = 0;
      for (float value : values) {
        sum += value;
        sumOfSquares += (double) value * value;
      }
      double scale = Math.sqrt(expected.get("sum_of_squares").asDouble() * values.length);
      assertThat(sum).as(name).isCloseTo(expected.get("sum").asDouble(), within(1e-6 * scale));
      assertThat(sumOfSquares)
          .as(name)
          .isCloseTo(
              expected.get("sum_of_squares").asDouble(),
              within(1e-6 * expected.get("sum_of_squares").asDouble()));

      assertThat(rowKernelValues(bytes)).as("row kernel on %s", name).isEqualTo(values);
      assertThat(file.readFloats(name)).as("readFloats of %s", name).isEqualTo(values);
    }
  }

  /** The whole tensor through the vector kernel's dequantize, row by row. */
  private static float[] rowKernelValues(TensorBytes bytes) {
    RowKernel kernel = RowKernel.of(bytes.type());
    byte[] row = new byte[bytes.rowBytes()];
    float[] values = new float[Math.toIntExact(bytes.rows() * bytes.rowLength())];
    for (int r = 0; r < bytes.rows(); r++) {
      bytes.copyRows(r, 1, row, 0);
      kernel.dequantize(row, 0, values, r * bytes.rowLength(), bytes.rowLength());
    }
    return values;
  }

  private static org.assertj.core.data.Offset<Double> within(double tolerance) {
    return org.assertj.core.data.Offset.offset(tolerance);
  }

  private static float[] floats(JsonNode array) {
    float[] values = new float[array.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) array.get(i).asDouble();
    }
    return values;
  }
}
