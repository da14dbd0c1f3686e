package io.specd.kernels.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.kernels.TestModels;
import io.specd.kernels.quant.ReferenceDequantizer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tensor bytes mapped in chunks of whole rows: rows read across chunk boundaries and past 2 GiB.
 */
class TensorBytesTest {
  @TempDir Path dir;

  @Test
  void shouldDescribeATensorInRows() {
    GgufFile file = GgufFile.open(TestModels.synthetic("synth-256-Q4_K_M.gguf"));
    TensorBytes output = file.tensorBytes("output.weight");
    assertThat(output.type()).isEqualTo(GgmlType.Q6_K);
    assertThat(output.shape()).containsExactly(512, 256);
    assertThat(output.rows()).isEqualTo(512);
    assertThat(output.rowLength()).isEqualTo(256);
    assertThat(output.rowBytes()).isEqualTo(210);
    TensorBytes norm = file.tensorBytes("output_norm.weight");
    assertThat(norm.rows()).isEqualTo(1);
    assertThat(norm.rowLength()).isEqualTo(256);
  }

  @Test
  void shouldReadRowsAcrossChunkBoundaries() throws IOException {
    float[] values = new float[7 * 64];
    Random random = new Random(7);
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextFloat() - 0.5f;
    }
    Path path = new GgufWriter().tensorQ8("q8", values, 64, 7).write(dir.resolve("q8.gguf"));
    GgufFile file = GgufFile.open(path);
    long offset = file.dataOffset() + file.tensor("q8").offset();
    TensorBytes whole = file.tensorBytes("q8");
    byte[] expected = new byte[7 * whole.rowBytes()];
    whole.copyRows(0, 7, expected, 0);
    float[] expectedValues = file.readFloats("q8");

    // chunk limits below one row, of one row, of two rows and of three rows
    for (long limit : new long[] {10, 68, 150, 210}) {
      TensorBytes chunked =
          TensorBytes.map(path, offset, "q8", GgmlType.Q8_0, new long[] {7, 64}, limit);
      assertThat(chunked.chunkCount())
          .as("limit %d", limit)
          .isEqualTo(limit < 136 ? 7 : limit < 204 ? 4 : 3);
      for (int first = 0; first < 7; first++) {
        for (int count = 0; first + count <= 7; count++) {
          byte[] rows = new byte[3 + count * 68];
          chunked.copyRows(first, count, rows, 3);
          assertThat(Arrays.copyOfRange(rows, 3, rows.length))
              .as("limit %d, rows %d+%d", limit, first, count)
              .isEqualTo(Arrays.copyOfRange(expected, first * 68, (first + count) * 68));
        }
      }
      float[] dequantized = new float[7 * 64];
      chunked.dequantizeRows(0, 7, dequantized, 0);
      assertThat(dequantized).isEqualTo(expectedValues);
    }
  }

  @Test
  void shouldRejectRowsOutOfRange() throws IOException {
    Path path =
        new GgufWriter().tensorQ8("q8", new float[2 * 32], 32, 2).write(dir.resolve("q8.gguf"));
    TensorBytes bytes = GgufFile.open(path).tensorBytes("q8");
    assertThatThrownBy(() -> bytes.copyRows(1, 2, new byte[100], 0))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> bytes.copyRows(0, 2, new byte[67], 0))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  /** A sparse 2.4 GB file: rows past the 2 GiB mark are read from the second mapping. */
  @Test
  void shouldMapTensorsLargerThanTwoGigabytes() throws IOException {
    int rowBytes = 2048 / 32 * 34;
    long rows = 1_100_000;
    Path path = dir.resolve("large.bin");
    try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
      file.setLength(rows * rowBytes);
    }
    long farRow = 1_000_000; // starts past byte 2^31
    byte[] row = new byte[rowBytes];
    new Random(3).nextBytes(row);
    for (int block = 0; block < 64; block++) {
      row[block * 34] = 0x00;
      row[block * 34 + 1] = 0x3c; // scale 1.0
    }
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(row), farRow * rowBytes);
    }
    TensorBytes bytes = TensorBytes.map(path, 0, "large", GgmlType.Q8_0, new long[] {rows, 2048});
    assertThat(bytes.chunkCount()).isEqualTo(2);
    byte[] copied = new byte[rowBytes];
    bytes.copyRows(farRow, 1, copied, 0);
    assertThat(copied).isEqualTo(row);
    float[] values = new float[2048];
    bytes.dequantizeRows(farRow, 1, values, 0);
    float[] expected = new float[2048];
    ReferenceDequantizer.dequantize(GgmlType.Q8_0, row, 0, expected, 0, 2048);
    assertThat(values).isEqualTo(expected);
    assertThat(Files.size(path)).isGreaterThan(1L << 31);
  }
}
