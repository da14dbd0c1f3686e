package io.specd.kernels.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.kernels.format.Float16;
import io.specd.kernels.format.GgmlType;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every vector kernel against the scalar reference on random valid rows: dequantize bit-exact,
 * products to float rounding, at odd offsets, odd counts, several chunks and 1 to 9 tokens.
 */
class RowKernelTest {
  private static final int SOURCE_OFFSET_BLOCKS = 3;

  static Stream<GgmlType> supportedTypes() {
    return Arrays.stream(GgmlType.values()).filter(GgmlType::isSupported);
  }

  /** Value counts to test: one block, several, and a whole row of more than 512 values. */
  private static int[] counts(GgmlType type) {
    int block = type.blockSize();
    if (block == 1) {
      return new int[] {1, 15, 16, 17, 33, 100, 1037};
    }
    return new int[] {block, 3 * block, (512 / block + 3) * block};
  }

  @ParameterizedTest
  @MethodSource("supportedTypes")
  void dequantizeShouldBeBitIdenticalToTheReference(GgmlType type) {
    RowKernel kernel = RowKernel.of(type);
    Random random = new Random(type.ordinal());
    for (int count : counts(type)) {
      byte[] row = RandomRows.of(type, count, random);
      int srcOffset =
          Math.toIntExact(type.byteSize((long) SOURCE_OFFSET_BLOCKS * type.blockSize()));
      byte[] src = new byte[srcOffset + row.length + 5];
      System.arraycopy(row, 0, src, srcOffset, row.length);

      float[] expected = new float[count + 7];
      ReferenceDequantizer.dequantize(type, src, srcOffset, expected, 5, count);
      float[] actual = new float[count + 7];
      kernel.dequantize(src, srcOffset, actual, 5, count);
      assertThat(bits(actual)).as("%s, %d values", type, count).containsExactly(bits(expected));
    }
  }

  @ParameterizedTest
  @MethodSource("supportedTypes")
  void dotAndDotsShouldMatchTheReferenceProducts(GgmlType type) {
    RowKernel kernel = RowKernel.of(type);
    Random random = new Random(100 + type.ordinal());
    for (int count : counts(type)) {
      byte[] row = RandomRows.of(type, count, random);
      int srcOffset =
          Math.toIntExact(type.byteSize((long) SOURCE_OFFSET_BLOCKS * type.blockSize()));
      byte[] src = new byte[srcOffset + row.length];
      System.arraycopy(row, 0, src, srcOffset, row.length);
      float[] weights = new float[count];
      ReferenceDequantizer.dequantize(type, src, srcOffset, weights, 0, count);

      int xStride = count + 3;
      int xOffset = 11;
      float[] x = new float[xOffset + 9 * xStride];
      for (int i = 0; i < x.length; i++) {
        x[i] = random.nextFloat() * 2 - 1;
      }
      assertClose(
          kernel.dot(src, srcOffset, x, xOffset, count),
          weights,
          x,
          xOffset,
          type + " dot, " + count + " values");

      for (int tokens = 1; tokens <= 9; tokens++) {
        int outOffset = 2;
        int outStride = 3;
        float[] out = new float[outOffset + tokens * outStride];
        Arrays.fill(out, Float.NaN);
        kernel.dots(src, srcOffset, x, xOffset, xStride, tokens, out, outOffset, outStride, count);
        for (int t = 0; t < tokens; t++) {
          assertClose(
              out[outOffset + t * outStride],
              weights,
              x,
              xOffset + t * xStride,
              type + " dots, " + count + " values, token " + t + " of " + tokens);
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("supportedTypes")
  void rowBatchesShouldMatchTheReferenceProducts(GgmlType type) {
    RowKernel kernel = RowKernel.of(type);
    Random random = new Random(200 + type.ordinal());
    int count = 4 * Math.max(type.blockSize(), 32);
    int rowBytes = Math.toIntExact(type.byteSize(count));
    int rows = 5; // pairs and a leftover row
    int srcOffset = rowBytes; // one row's room before the batch
    byte[] src = new byte[srcOffset + rows * rowBytes];
    float[][] weights = new float[rows][count];
    for (int r = 0; r < rows; r++) {
      byte[] row = RandomRows.of(type, count, random);
      System.arraycopy(row, 0, src, srcOffset + r * rowBytes, rowBytes);
      ReferenceDequantizer.dequantize(type, src, srcOffset + r * rowBytes, weights[r], 0, count);
    }
    int xStride = count + 5;
    int xOffset = 7;
    float[] x = new float[xOffset + 9 * xStride];
    for (int i = 0; i < x.length; i++) {
      x[i] = random.nextFloat() * 2 - 1;
    }
    float[] one = new float[3 + rows];
    kernel.dotRows(src, srcOffset, rowBytes, rows, x, xOffset, one, 3, count);
    for (int r = 0; r < rows; r++) {
      assertClose(one[3 + r], weights[r], x, xOffset, type + " dotRows, row " + r);
    }
    for (int tokens = 1; tokens <= 9; tokens++) {
      int outStride = rows + 2;
      float[] out = new float[1 + tokens * outStride];
      Arrays.fill(out, Float.NaN);
      kernel.dotsRows(
          src, srcOffset, rowBytes, rows, x, xOffset, xStride, tokens, out, 1, outStride, count);
      for (int t = 0; t < tokens; t++) {
        for (int r = 0; r < rows; r++) {
          assertClose(
              out[1 + r + t * outStride],
              weights[r],
              x,
              xOffset + t * xStride,
              type + " dotsRows, row " + r + ", token " + t + " of " + tokens);
        }
      }
    }
  }

  @Test
  void f16ShouldConvertEveryBitPatternExactly() {
    byte[] src = new byte[2 << 16];
    for (int bits = 0; bits < 1 << 16; bits++) {
      src[2 * bits] = (byte) bits;
      src[2 * bits + 1] = (byte) (bits >> 8);
    }
    float[] values = new float[1 << 16];
    RowKernel.of(GgmlType.F16).dequantize(src, 0, values, 0, values.length);
    for (int bits = 0; bits < 1 << 16; bits++) {
      assertThat(Float.floatToRawIntBits(values[bits]))
          .as("half 0x%04x", bits)
          .isEqualTo(Float.floatToRawIntBits(Float16.halfToFloat((short) bits)));
    }
  }

  @Test
  void blockScalesShouldConvertEveryHalfBitPatternExactly() {
    byte[] src = new byte[2];
    for (int bits = 0; bits < 1 << 16; bits++) {
      src[0] = (byte) bits;
      src[1] = (byte) (bits >> 8);
      assertThat(Float.floatToRawIntBits(Vectors.half(src, 0)))
          .as("half 0x%04x", bits)
          .isEqualTo(Float.floatToRawIntBits(Float16.halfToFloat((short) bits)));
    }
  }

  @Test
  void shouldRejectAnUnsupportedType() {
    assertThatThrownBy(() -> RowKernel.of(GgmlType.IQ4_NL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("IQ4_NL")
        .hasMessageContaining("supported: F32, F16");
  }

  @Test
  void everySupportedTypeShouldHaveAKernelOfThatType() {
    supportedTypes().forEach(type -> assertThat(RowKernel.of(type).type()).isEqualTo(type));
  }

  /** Within 1e-5 of Σ|w·x| of the exact (double) product. */
  static void assertClose(
      float actual, float[] weights, float[] x, int xOffset, String description) {
    double exact = 0;
    double magnitude = 0;
    for (int i = 0; i < weights.length; i++) {
      exact += (double) weights[i] * x[xOffset + i];
      magnitude += Math.abs((double) weights[i] * x[xOffset + i]);
    }
    assertThat((double) actual)
        .as(description)
        .isCloseTo(exact, org.assertj.core.data.Offset.offset(1e-5 * magnitude + 1e-30));
  }

  static int[] bits(float[] values) {
    return IntStream.range(0, values.length).map(i -> Float.floatToRawIntBits(values[i])).toArray();
  }
}
