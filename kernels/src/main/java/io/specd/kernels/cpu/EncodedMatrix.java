package io.specd.kernels.cpu;

import io.specd.kernels.format.GgmlType;
import io.specd.kernels.format.TensorBytes;
import io.specd.kernels.quant.RowKernel;

/**
 * A matrix kept in its file encoding (F32, F16, BF16, Q8_0, Q4_0 … Q6_K), usually memory-mapped: a
 * thread copies a few encoded rows at a time into its own small scratch (which stays in L1) and its
 * {@link RowKernel} computes each output's dot products on the encoded blocks, for every token of
 * the batch in one pass over the row. The weights are read from memory once per product, whatever
 * the number of tokens.
 */
final class EncodedMatrix implements WeightMatrix {
  private static final int SCRATCH_BYTES = 16 * 1024;
  private static final ThreadLocal<byte[][]> SCRATCH =
      ThreadLocal.withInitial(() -> new byte[][] {new byte[0]});

  /** Where encoded rows come from (a mapped tensor). */
  @FunctionalInterface
  interface Rows {
    /** Copies rows {@code [first, first + count)} to {@code destination[offset…]}. */
    void copy(long first, int count, byte[] destination, int offset);
  }

  private final int rows;
  private final int columns;
  private final int rowBytes;
  private final int chunk; // rows copied at a time
  private final RowKernel kernel;
  private final Rows source;

  EncodedMatrix(GgmlType type, int rows, int columns, Rows source) {
    this.rows = rows;
    this.columns = columns;
    this.rowBytes = Math.toIntExact(type.byteSize(columns));
    this.chunk = Math.max(1, SCRATCH_BYTES / rowBytes);
    this.kernel = RowKernel.of(type);
    this.source = source;
  }

  /** A memory-mapped tensor {@code [rows, columns]}. */
  static EncodedMatrix mapped(TensorBytes tensor) {
    return new EncodedMatrix(
        tensor.type(), Math.toIntExact(tensor.rows()), tensor.rowLength(), tensor::copyRows);
  }

  @Override
  public int rows() {
    return rows;
  }

  @Override
  public int columns() {
    return columns;
  }

  @Override
  public int grain() {
    return chunk;
  }

  @Override
  public void multiply(
      float[] x, int xOffset, int tokens, float[] y, int yOffset, int from, int to) {
    byte[] scratch = scratch(chunk * rowBytes);
    for (int o = from; o < to; o += chunk) {
      int n = Math.min(chunk, to - o);
      source.copy(o, n, scratch, 0);
      if (tokens == 1) {
        kernel.dotRows(scratch, 0, rowBytes, n, x, xOffset, y, yOffset + o, columns);
        continue;
      }
      kernel.dotsRows(
          scratch, 0, rowBytes, n, x, xOffset, columns, tokens, y, yOffset + o, rows, columns);
    }
  }

  @Override
  public void row(int row, float[] destination, int offset) {
    byte[] scratch = scratch(rowBytes);
    source.copy(row, 1, scratch, 0);
    kernel.dequantize(scratch, 0, destination, offset, columns);
  }

  /** This thread's scratch, at least {@code size} bytes. */
  private static byte[] scratch(int size) {
    byte[][] holder = SCRATCH.get();
    if (holder[0].length < size) {
      holder[0] = new byte[size];
    }
    return holder[0];
  }
}
