package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/**
 * A Q8_0 matrix {@code [rows, columns]} repacked once at load for products that stream it from
 * memory. Rows go in pairs (an odd last row gets a zero partner), and the matrix keeps two arrays:
 * the int8 quants, pair by pair and block by block with the two rows' 32-value blocks side by side
 * in one 64-byte cache line ({@code quants[pairs, columns/32, 2, 32]}), and the blocks' scales
 * already converted to float32 in the same order ({@code scales[pairs, columns/32, 2]}): 36 bytes
 * per 34 of the file (1.06×). A pair's product reads two sequential streams: no copy through a
 * scratch, no f16 conversion per block, and one stream per pair where the file's layout has two.
 * Measured on a 400 MB matrix: ~20 GB/s of the file's bytes on one core and ~29 on two, against ~15
 * and ~21 for the file-layout kernels, which copy rows through an L1 scratch first.
 *
 * <p>The kernels are static and take the arrays and sizes as arguments: C2 re-reads instance fields
 * inside their loops, which halved the throughput. {@link Q8_0RowKernel} repacks the row batches it
 * copies from a mapping into a scratch of this layout and runs the same kernels, so a matrix gives
 * the same sums bit for bit whether it is split on the heap or read from the mapping.
 */
public final class SplitQ8_0Rows {
  private static final int BLOCK = 32;
  private static final int BLOCK_BYTES = 34;

  private final int rows;
  private final int columns;
  private final byte[] quants; // [pairs, columns / 32, 2, 32]
  private final float[] scales; // [pairs, columns / 32, 2]

  private SplitQ8_0Rows(int rows, int columns, byte[] quants, float[] scales) {
    this.rows = rows;
    this.columns = columns;
    this.quants = quants;
    this.scales = scales;
  }

  /** Where Q8_0 rows in the file's encoding come from. */
  @FunctionalInterface
  public interface Source {
    /** Copies encoded rows {@code [first, first + count)} to {@code destination[0…]}. */
    void read(int first, int count, byte[] destination);
  }

  /** Heap bytes a matrix {@code [rows, columns]} takes once split. */
  public static long heapBytes(int rows, int columns) {
    long padded = rows + rows % 2;
    return padded * columns + padded * (columns / BLOCK) * Float.BYTES;
  }

  /**
   * Reads a Q8_0 matrix {@code [rows, columns]} from {@code source} in batches of about 1 MiB and
   * splits it.
   *
   * @throws IllegalArgumentException if {@code columns} is not a multiple of 32 or the matrix is
   *     too large for one array
   */
  public static SplitQ8_0Rows split(int rows, int columns, Source source) {
    long padded = rows + rows % 2;
    if (columns % BLOCK != 0 || padded * columns > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "cannot split a Q8_0 matrix of " + rows + " x " + columns + " values");
    }
    int rowBytes = columns / BLOCK * BLOCK_BYTES;
    int batch = Math.max(1, (1 << 20) / rowBytes);
    byte[] encoded = new byte[Math.min(rows, batch) * rowBytes];
    byte[] quants = new byte[(int) padded * columns];
    float[] scales = new float[(int) padded * (columns / BLOCK)];
    for (int first = 0; first < rows; first += batch) {
      int count = Math.min(batch, rows - first);
      source.read(first, count, encoded);
      repack(encoded, 0, first, count, columns, quants, scales);
    }
    return new SplitQ8_0Rows(rows, columns, quants, scales);
  }

  /**
   * Repacks {@code count} Q8_0 rows in the file's encoding at {@code encoded[offset…]} as rows
   * {@code [firstRow, firstRow + count)} of the split layout in {@code quants} and {@code scales}.
   */
  static void repack(
      byte[] encoded,
      int offset,
      int firstRow,
      int count,
      int columns,
      byte[] quants,
      float[] scales) {
    int blocks = columns / BLOCK;
    for (int r = firstRow; r < firstRow + count; r++) {
      for (int b = 0; b < blocks; b++) {
        int at = offset + ((r - firstRow) * blocks + b) * BLOCK_BYTES;
        int slot = slot(r, b, blocks);
        scales[slot] = Vectors.half(encoded, at);
        System.arraycopy(encoded, at + 2, quants, slot * BLOCK, BLOCK);
      }
    }
  }

  /** Where block {@code block} of row {@code row} goes, counted in blocks (its scale's index). */
  private static int slot(int row, int block, int blocks) {
    return (row & ~1) * blocks + 2 * block + (row & 1);
  }

  public int rows() {
    return rows;
  }

  public int columns() {
    return columns;
  }

  /** Row {@code row} dequantized to {@code dst[dstOffset … dstOffset + columns)}. */
  public void dequantizeRow(int row, float[] dst, int dstOffset) {
    int blocks = columns / BLOCK;
    for (int b = 0; b < blocks; b++) {
      int slot = slot(row, b, blocks);
      float scale = scales[slot];
      ByteVector q = ByteVector.fromArray(BYTES_32, quants, slot * BLOCK);
      Vectors.low(q).mul(scale).intoArray(dst, dstOffset + b * BLOCK);
      Vectors.high(q).mul(scale).intoArray(dst, dstOffset + b * BLOCK + 16);
    }
  }

  /**
   * {@code y[yOffset + t·rows + o] = Σ_i W[o, i] · x[xOffset + t·columns + i]} for every token
   * {@code t < tokens} and row {@code o} in {@code [from, to)}, {@code from} even. Allocates
   * nothing.
   */
  public void multiply(
      float[] x, int xOffset, int tokens, float[] y, int yOffset, int from, int to) {
    if ((from & 1) != 0) {
      throw new IllegalArgumentException("rows go in pairs: a range starts even, not at " + from);
    }
    products(quants, scales, columns, from, to, x, xOffset, columns, tokens, y, yOffset, rows);
  }

  /**
   * The products of rows {@code [from, to)} ({@code from} even) of a split matrix with rows of
   * {@code columns} values: {@code y[yOffset + t·yStride + o] = Σ_i W[o, i] · x[xOffset + t·xStride
   * + i]}. A pair's blocks are decoded once for two tokens and stay in L1 for the next two (a
   * kernel for four tokens measured no faster, and C2 boxed its vectors: it inlined too much to
   * intrinsify them all); an odd last row's zero partner is computed but not stored.
   */
  static void products(
      byte[] quants,
      float[] scales,
      int columns,
      int from,
      int to,
      float[] x,
      int xOffset,
      int xStride,
      int tokens,
      float[] y,
      int yOffset,
      int yStride) {
    for (int r = from; r < to; r += 2) {
      boolean second = r + 1 < to;
      int t = 0;
      for (; t + 2 <= tokens; t += 2) {
        pair2(
            quants,
            scales,
            columns,
            r,
            x,
            xOffset + t * xStride,
            xStride,
            y,
            yOffset + t * yStride + r,
            yStride,
            second);
      }
      if (t < tokens) {
        pair(
            quants,
            scales,
            columns,
            r,
            x,
            xOffset + t * xStride,
            y,
            yOffset + t * yStride + r,
            second);
      }
    }
  }

  /** Rows {@code row} and {@code row + 1} (a pair) against one token. */
  private static void pair(
      byte[] quants,
      float[] scales,
      int columns,
      int row,
      float[] x,
      int xOffset,
      float[] out,
      int at,
      boolean second) {
    int blocks = columns / BLOCK;
    int q = row * columns; // the pair's first quant
    int s = row * blocks; // the pair's first scale
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = FloatVector.zero(FLOATS);
    for (int block = 0; block < blocks; block++) {
      int xi = xOffset + block * BLOCK;
      FloatVector x0 = FloatVector.fromArray(FLOATS, x, xi);
      FloatVector x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      int qi = q + 2 * block * BLOCK;
      ByteVector v = ByteVector.fromArray(BYTES_32, quants, qi);
      FloatVector products = Vectors.low(v).fma(x0, Vectors.high(v).mul(x1));
      sum0 = products.fma(FloatVector.broadcast(FLOATS, scales[s + 2 * block]), sum0);
      v = ByteVector.fromArray(BYTES_32, quants, qi + BLOCK);
      products = Vectors.low(v).fma(x0, Vectors.high(v).mul(x1));
      sum1 = products.fma(FloatVector.broadcast(FLOATS, scales[s + 2 * block + 1]), sum1);
    }
    out[at] = Vectors.sum(sum0);
    if (second) {
      out[at + 1] = Vectors.sum(sum1);
    }
  }

  /** A pair against two tokens: each block decoded once for both. */
  private static void pair2(
      byte[] quants,
      float[] scales,
      int columns,
      int row,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int at,
      int outStride,
      boolean second) {
    int blocks = columns / BLOCK;
    int q = row * columns;
    int s = row * blocks;
    FloatVector a0 = FloatVector.zero(FLOATS);
    FloatVector a1 = FloatVector.zero(FLOATS);
    FloatVector b0 = FloatVector.zero(FLOATS);
    FloatVector b1 = FloatVector.zero(FLOATS);
    for (int block = 0; block < blocks; block++) {
      float scaleA = scales[s + 2 * block];
      float scaleB = scales[s + 2 * block + 1];
      int qi = q + 2 * block * BLOCK;
      ByteVector va = ByteVector.fromArray(BYTES_32, quants, qi);
      ByteVector vb = ByteVector.fromArray(BYTES_32, quants, qi + BLOCK);
      FloatVector wa0 = Vectors.low(va).mul(scaleA);
      FloatVector wa1 = Vectors.high(va).mul(scaleA);
      FloatVector wb0 = Vectors.low(vb).mul(scaleB);
      FloatVector wb1 = Vectors.high(vb).mul(scaleB);
      int xi = xOffset + block * BLOCK;
      FloatVector x0 = FloatVector.fromArray(FLOATS, x, xi);
      FloatVector x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a0 = wa1.fma(x1, wa0.fma(x0, a0));
      b0 = wb1.fma(x1, wb0.fma(x0, b0));
      xi += xStride;
      x0 = FloatVector.fromArray(FLOATS, x, xi);
      x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a1 = wa1.fma(x1, wa0.fma(x0, a1));
      b1 = wb1.fma(x1, wb0.fma(x0, b1));
    }
    out[at] = Vectors.sum(a0);
    out[at + outStride] = Vectors.sum(a1);
    if (second) {
      out[at + 1] = Vectors.sum(b0);
      out[at + 1 + outStride] = Vectors.sum(b1);
    }
  }
}
