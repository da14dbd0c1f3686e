package io.specd.kernels.quant;

import static io.specd.kernels.quant.Vectors.BYTES_16;
import static io.specd.kernels.quant.Vectors.BYTES_32;
import static io.specd.kernels.quant.Vectors.FLOATS;
import static jdk.incubator.vector.VectorOperators.ADD;

import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/**
 * A Q8_0 matrix {@code [rows, columns]} repacked once at load for products that stream it from
 * memory. Rows go in pairs (an odd last row gets a zero partner) and columns in panels of {@value
 * #PANEL} (the last one may be narrower); a panel holds every pair's blocks of its columns, pair by
 * pair, with the two rows' 32-value blocks side by side in one 64-byte cache line: {@code
 * quants[panels, pairs, panel columns / 32, 2, 32]}, and the blocks' scales already converted to
 * float32 in the same order ({@code scales[panels, pairs, panel columns / 32, 2]}): 36 bytes per 34
 * of the file (1.06×).
 *
 * <p>A product walks the panels in order and, in each, the pairs in order: one sequential stream of
 * the matrix, while the tokens' activations it multiplies stay within one panel's columns ({@value
 * #PANEL} floats a token), so four tokens' worth stays in L1 next to the stream. Without panels
 * four tokens of a 2,048-wide row (32 KiB) were evicted by the stream and four-token products cost
 * 4× one token; with them 1.5× (one thread, a 400 MB matrix; on a 5,632-wide row even the one-token
 * product ran 1.7× faster). Each pair's blocks are decoded once for up to four tokens; outputs
 * gather one partial sum per panel.
 *
 * <p>The kernels are static and take the arrays and sizes as arguments: C2 re-reads instance fields
 * inside their loops, which halved the throughput. {@link Q8_0RowKernel} repacks the row batches it
 * copies from a mapping into a scratch of this layout and runs the same kernels, so a matrix gives
 * the same sums bit for bit whether it is split on the heap or read from the mapping.
 */
public final class SplitQ8_0Rows {
  private static final int BLOCK = 32;
  private static final int BLOCK_BYTES = 34;

  /** Columns of a panel: four tokens' activations over one panel take 16 KiB. */
  static final int PANEL = 1024;

  /** Rows of a panel one batch of tokens goes through before the next (64 KiB: in L2). */
  private static final int CHUNK_ROWS = 64;

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
      repack(encoded, 0, first, count, rows, columns, quants, scales);
    }
    return new SplitQ8_0Rows(rows, columns, quants, scales);
  }

  /**
   * Repacks {@code count} Q8_0 rows in the file's encoding at {@code encoded[offset…]} as rows
   * {@code [firstRow, firstRow + count)} of the split layout of a {@code [rows, columns]} matrix in
   * {@code quants} and {@code scales}.
   */
  static void repack(
      byte[] encoded,
      int offset,
      int firstRow,
      int count,
      int rows,
      int columns,
      byte[] quants,
      float[] scales) {
    int blocks = columns / BLOCK;
    for (int r = firstRow; r < firstRow + count; r++) {
      for (int b = 0; b < blocks; b++) {
        int at = offset + ((r - firstRow) * blocks + b) * BLOCK_BYTES;
        int slot = slot(r, b, rows, columns);
        scales[slot] = Vectors.half(encoded, at);
        System.arraycopy(encoded, at + 2, quants, slot * BLOCK, BLOCK);
      }
    }
  }

  /**
   * Where block {@code block} of row {@code row} of a {@code [rows, columns]} matrix goes, counted
   * in blocks (its scale's index).
   */
  private static int slot(int row, int block, int rows, int columns) {
    int panelBlocks = PANEL / BLOCK;
    int panel = block / panelBlocks;
    int first = panel * panelBlocks; // the panel's first block
    int width = Math.min(panelBlocks, columns / BLOCK - first); // the panel's blocks
    int pair = first * pairs(rows) + (row >> 1) * width + block - first;
    return 2 * pair + (row & 1);
  }

  private static int pairs(int rows) {
    return (rows + 1) >> 1;
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
      int slot = slot(row, b, rows, columns);
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
    products(
        quants, scales, rows, columns, from, to, x, xOffset, columns, tokens, y, yOffset, rows);
  }

  /**
   * The products of rows {@code [from, to)} ({@code from} even) of a split {@code [rows, columns]}
   * matrix: {@code y[yOffset + t·yStride + o] = Σ_i W[o, i] · x[xOffset + t·xStride + i]}. Panel by
   * panel, chunk by chunk of its rows, tokens in fours (then a three, a two or a one) over the
   * chunk's pairs; an odd last row's zero partner is computed but not stored. Allocates nothing.
   */
  static void products(
      byte[] quants,
      float[] scales,
      int rows,
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
    for (int t = 0; t < tokens; t++) {
      Arrays.fill(y, yOffset + t * yStride + from, yOffset + t * yStride + to, 0f);
    }
    int pairs = pairs(rows);
    for (int first = 0; first < columns / BLOCK; first += PANEL / BLOCK) {
      int blocks = Math.min(PANEL / BLOCK, columns / BLOCK - first); // the panel's
      int xPanel = xOffset + first * BLOCK;
      for (int chunk = from; chunk < to; chunk += CHUNK_ROWS) {
        int end = Math.min(to, chunk + CHUNK_ROWS);
        int t = 0;
        for (; tokens - t >= 4; t += 4) { // fours: one decode of each block for four tokens
          for (int r = chunk; r < end; r += 2) {
            pair4(
                quants,
                scales,
                first * pairs + (r >> 1) * blocks,
                blocks,
                x,
                xPanel + t * xStride,
                xStride,
                y,
                yOffset + t * yStride + r,
                yStride,
                r + 1 < to);
          }
        }
        if (tokens - t == 3) {
          for (int r = chunk; r < end; r += 2) {
            pair3(
                quants,
                scales,
                first * pairs + (r >> 1) * blocks,
                blocks,
                x,
                xPanel + t * xStride,
                xStride,
                y,
                yOffset + t * yStride + r,
                yStride,
                r + 1 < to);
          }
          t += 3;
        }
        if (t + 2 <= tokens) {
          for (int r = chunk; r < end; r += 2) {
            pair2(
                quants,
                scales,
                first * pairs + (r >> 1) * blocks,
                blocks,
                x,
                xPanel + t * xStride,
                xStride,
                y,
                yOffset + t * yStride + r,
                yStride,
                r + 1 < to);
          }
          t += 2;
        }
        if (t < tokens) {
          for (int r = chunk; r < end; r += 2) {
            pair(
                quants,
                scales,
                first * pairs + (r >> 1) * blocks,
                blocks,
                x,
                xPanel + t * xStride,
                y,
                yOffset + t * yStride + r,
                r + 1 < to);
          }
        }
      }
    }
  }

  /**
   * One token: adds the pair's products over {@code blocks} blocks from block pair {@code pair} to
   * {@code out[at]} and {@code out[at + 1]}.
   */
  private static void pair(
      byte[] quants,
      float[] scales,
      int pair,
      int blocks,
      float[] x,
      int xOffset,
      float[] out,
      int at,
      boolean second) {
    FloatVector sum0 = FloatVector.zero(FLOATS);
    FloatVector sum1 = sum0;
    for (int block = 0; block < blocks; block++) {
      int xi = xOffset + block * BLOCK;
      FloatVector x0 = FloatVector.fromArray(FLOATS, x, xi);
      FloatVector x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      int qi = (pair + block) * 2 * BLOCK;
      int si = (pair + block) * 2;
      // the block's products summed per lane, then scaled once
      FloatVector products = half(quants, qi).fma(x0, half(quants, qi + 16).mul(x1));
      sum0 = products.fma(FloatVector.broadcast(FLOATS, scales[si]), sum0);
      products = half(quants, qi + 32).fma(x0, half(quants, qi + 48).mul(x1));
      sum1 = products.fma(FloatVector.broadcast(FLOATS, scales[si + 1]), sum1);
    }
    out[at] += Vectors.sum(sum0);
    if (second) {
      out[at + 1] += Vectors.sum(sum1);
    }
  }

  /**
   * {@link #pair} for two tokens: each block decoded and scaled once for both, and reduced as
   * {@link #pair4} reduces, so a token's sums are the same bits in either.
   */
  private static void pair2(
      byte[] quants,
      float[] scales,
      int pair,
      int blocks,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int at,
      int outStride,
      boolean second) {
    FloatVector zero = FloatVector.zero(FLOATS);
    FloatVector a0 = zero; // row a, token 0
    FloatVector a1 = zero;
    FloatVector b0 = zero; // row b, token 0
    FloatVector b1 = zero;
    for (int block = 0; block < blocks; block++) {
      int qi = (pair + block) * 2 * BLOCK;
      int si = (pair + block) * 2;
      FloatVector wa0 = half(quants, qi).mul(scales[si]);
      FloatVector wa1 = half(quants, qi + 16).mul(scales[si]);
      FloatVector wb0 = half(quants, qi + 32).mul(scales[si + 1]);
      FloatVector wb1 = half(quants, qi + 48).mul(scales[si + 1]);
      int xi = xOffset + block * BLOCK;
      FloatVector x0 = FloatVector.fromArray(FLOATS, x, xi);
      FloatVector x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a0 = wa1.fma(x1, wa0.fma(x0, a0));
      b0 = wb1.fma(x1, wb0.fma(x0, b0));
      x0 = FloatVector.fromArray(FLOATS, x, xi + xStride);
      x1 = FloatVector.fromArray(FLOATS, x, xi + xStride + 16);
      a1 = wa1.fma(x1, wa0.fma(x0, a1));
      b1 = wb1.fma(x1, wb0.fma(x0, b1));
    }
    out[at] += a0.reduceLanes(ADD);
    out[at + outStride] += a1.reduceLanes(ADD);
    if (second) {
      out[at + 1] += b0.reduceLanes(ADD);
      out[at + 1 + outStride] += b1.reduceLanes(ADD);
    }
  }

  /**
   * {@link #pair} for four tokens: each block decoded and scaled once for all of them, which is
   * what a product costs here. The kernel sits at C2's (JDK 17) inlining node limit, past which C2
   * declines our own methods but still inlines the JDK's forced ones: its sums reduce through
   * {@code reduceLanes} directly, since a declined {@link Vectors#sum} boxed a vector on every call
   * (four-token forwards of the padded model took 304–512 ms against 36–47 in five of seven runs of
   * {@code bench --forward-costs 1,2,4}), and one zero vector seeds them all (eight {@code zero}
   * calls cost nodes too).
   */
  private static void pair4(
      byte[] quants,
      float[] scales,
      int pair,
      int blocks,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int at,
      int outStride,
      boolean second) {
    FloatVector zero = FloatVector.zero(FLOATS);
    FloatVector a0 = zero; // row a, token 0
    FloatVector a1 = zero;
    FloatVector a2 = zero;
    FloatVector a3 = zero;
    FloatVector b0 = zero; // row b, token 0
    FloatVector b1 = zero;
    FloatVector b2 = zero;
    FloatVector b3 = zero;
    for (int block = 0; block < blocks; block++) {
      int qi = (pair + block) * 2 * BLOCK;
      int si = (pair + block) * 2;
      FloatVector wa0 = half(quants, qi).mul(scales[si]);
      FloatVector wa1 = half(quants, qi + 16).mul(scales[si]);
      FloatVector wb0 = half(quants, qi + 32).mul(scales[si + 1]);
      FloatVector wb1 = half(quants, qi + 48).mul(scales[si + 1]);
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
      xi += xStride;
      x0 = FloatVector.fromArray(FLOATS, x, xi);
      x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a2 = wa1.fma(x1, wa0.fma(x0, a2));
      b2 = wb1.fma(x1, wb0.fma(x0, b2));
      xi += xStride;
      x0 = FloatVector.fromArray(FLOATS, x, xi);
      x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a3 = wa1.fma(x1, wa0.fma(x0, a3));
      b3 = wb1.fma(x1, wb0.fma(x0, b3));
    }
    out[at] += a0.reduceLanes(ADD);
    out[at + outStride] += a1.reduceLanes(ADD);
    out[at + 2 * outStride] += a2.reduceLanes(ADD);
    out[at + 3 * outStride] += a3.reduceLanes(ADD);
    if (second) {
      out[at + 1] += b0.reduceLanes(ADD);
      out[at + 1 + outStride] += b1.reduceLanes(ADD);
      out[at + 1 + 2 * outStride] += b2.reduceLanes(ADD);
      out[at + 1 + 3 * outStride] += b3.reduceLanes(ADD);
    }
  }

  /**
   * {@link #pair4} for three tokens, the same sums bit for bit: a three run as a four (its last
   * lane repeating the third token) paid a fourth token's FMAs for nothing, a quarter of a
   * compute-bound product.
   */
  private static void pair3(
      byte[] quants,
      float[] scales,
      int pair,
      int blocks,
      float[] x,
      int xOffset,
      int xStride,
      float[] out,
      int at,
      int outStride,
      boolean second) {
    FloatVector zero = FloatVector.zero(FLOATS);
    FloatVector a0 = zero; // row a, token 0
    FloatVector a1 = zero;
    FloatVector a2 = zero;
    FloatVector b0 = zero; // row b, token 0
    FloatVector b1 = zero;
    FloatVector b2 = zero;
    for (int block = 0; block < blocks; block++) {
      int qi = (pair + block) * 2 * BLOCK;
      int si = (pair + block) * 2;
      FloatVector wa0 = half(quants, qi).mul(scales[si]);
      FloatVector wa1 = half(quants, qi + 16).mul(scales[si]);
      FloatVector wb0 = half(quants, qi + 32).mul(scales[si + 1]);
      FloatVector wb1 = half(quants, qi + 48).mul(scales[si + 1]);
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
      xi += xStride;
      x0 = FloatVector.fromArray(FLOATS, x, xi);
      x1 = FloatVector.fromArray(FLOATS, x, xi + 16);
      a2 = wa1.fma(x1, wa0.fma(x0, a2));
      b2 = wb1.fma(x1, wb0.fma(x0, b2));
    }
    out[at] += a0.reduceLanes(ADD);
    out[at + outStride] += a1.reduceLanes(ADD);
    out[at + 2 * outStride] += a2.reduceLanes(ADD);
    if (second) {
      out[at + 1] += b0.reduceLanes(ADD);
      out[at + 1 + outStride] += b1.reduceLanes(ADD);
      out[at + 1 + 2 * outStride] += b2.reduceLanes(ADD);
    }
  }

  /** Half a block: the 16 int8 quants at {@code quants[at…]}, as floats. */
  private static FloatVector half(byte[] quants, int at) {
    return Vectors.floats(ByteVector.fromArray(BYTES_16, quants, at));
  }
}
