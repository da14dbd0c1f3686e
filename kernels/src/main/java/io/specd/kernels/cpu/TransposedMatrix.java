package io.specd.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A narrow matrix stored transposed in float32, {@code [columns][stride]} with each input's weights
 * contiguous over the outputs: a product broadcasts one input and FMAs it along a block of outputs
 * kept in registers, with no horizontal sum. For small models (inputs below a few hundred) this is
 * several times faster than one dot product per output, whose reduction dominates. Repacked once at
 * load (the source is float32 or dequantized).
 */
final class TransposedMatrix implements WeightMatrix {
  private static final VectorSpecies<Float> SPECIES = VectorMath.SPECIES;
  private static final int LANES = SPECIES.length();
  private static final int BLOCK = 4 * LANES; // outputs per register block

  private final int rows;
  private final int columns;
  private final int stride;
  private final float[] weights; // [columns][stride]: W[o, i] at i·stride + o
  private final float[] tail = new float[LANES]; // the last partial vector of outputs

  /**
   * @param weight {@code W [rows, columns]} row-major
   */
  TransposedMatrix(float[] weight, int rows, int columns) {
    this.rows = rows;
    this.columns = columns;
    this.stride = (rows + LANES - 1) / LANES * LANES;
    this.weights = new float[columns * stride];
    for (int o = 0; o < rows; o++) {
      for (int i = 0; i < columns; i++) {
        weights[i * stride + o] = weight[o * columns + i];
      }
    }
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
    return BLOCK;
  }

  @Override
  public void multiply(
      float[] x, int xOffset, int tokens, float[] y, int yOffset, int from, int to) {
    for (int t = 0; t < tokens; t++) {
      int xRow = xOffset + t * columns;
      int yRow = yOffset + t * rows;
      int o = from;
      for (; o + BLOCK <= to; o += BLOCK) {
        block(x, xRow, y, yRow + o, o);
      }
      for (; o < to; o += LANES) {
        single(x, xRow, y, yRow, o, to);
      }
    }
  }

  /** Outputs {@code [o, o + BLOCK)} of one token. */
  private void block(float[] x, int xRow, float[] y, int yAt, int o) {
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    for (int i = 0, w = o; i < columns; i++, w += stride) {
      FloatVector xi = FloatVector.broadcast(SPECIES, x[xRow + i]);
      a0 = FloatVector.fromArray(SPECIES, weights, w).fma(xi, a0);
      a1 = FloatVector.fromArray(SPECIES, weights, w + LANES).fma(xi, a1);
      a2 = FloatVector.fromArray(SPECIES, weights, w + 2 * LANES).fma(xi, a2);
      a3 = FloatVector.fromArray(SPECIES, weights, w + 3 * LANES).fma(xi, a3);
    }
    a0.intoArray(y, yAt);
    a1.intoArray(y, yAt + LANES);
    a2.intoArray(y, yAt + 2 * LANES);
    a3.intoArray(y, yAt + 3 * LANES);
  }

  /**
   * Outputs {@code [o, min(o + LANES, to))} of one token (the tail of a share), with the inputs
   * split over four accumulators to keep the FMA pipeline full.
   */
  private void single(float[] x, int xRow, float[] y, int yRow, int o, int to) {
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    int i = 0;
    int w = o;
    for (; i + 4 <= columns; i += 4, w += 4 * stride) {
      a0 = FloatVector.fromArray(SPECIES, weights, w).fma(broadcast(x, xRow + i), a0);
      a1 = FloatVector.fromArray(SPECIES, weights, w + stride).fma(broadcast(x, xRow + i + 1), a1);
      a2 =
          FloatVector.fromArray(SPECIES, weights, w + 2 * stride)
              .fma(broadcast(x, xRow + i + 2), a2);
      a3 =
          FloatVector.fromArray(SPECIES, weights, w + 3 * stride)
              .fma(broadcast(x, xRow + i + 3), a3);
    }
    for (; i < columns; i++, w += stride) {
      a0 = FloatVector.fromArray(SPECIES, weights, w).fma(broadcast(x, xRow + i), a0);
    }
    FloatVector a = a0.add(a1).add(a2.add(a3));
    if (o + LANES <= to) {
      a.intoArray(y, yRow + o);
    } else { // the matrix's last outputs (shares start at multiples of the grain)
      a.intoArray(tail, 0);
      System.arraycopy(tail, 0, y, yRow + o, to - o);
    }
  }

  private static FloatVector broadcast(float[] x, int at) {
    return FloatVector.broadcast(SPECIES, x[at]);
  }

  @Override
  public void row(int row, float[] destination, int offset) {
    for (int i = 0; i < columns; i++) {
      destination[offset + i] = weights[i * stride + row];
    }
  }
}
