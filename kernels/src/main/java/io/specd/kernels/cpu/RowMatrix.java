package io.specd.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A float32 matrix in row-major {@code [rows, columns]} on the heap: one dot product per output,
 * over up to four tokens at once so that each loaded weight vector serves all of them. For wide
 * float32 matrices (a drafter's own layers on a large model).
 */
final class RowMatrix implements WeightMatrix {
  private static final VectorSpecies<Float> SPECIES = VectorMath.SPECIES;
  private static final int LANES = SPECIES.length();

  private final int rows;
  private final int columns;
  private final float[] weights;

  /**
   * @param weight {@code W [rows, columns]} row-major (kept, not copied)
   */
  RowMatrix(float[] weight, int rows, int columns) {
    this.rows = rows;
    this.columns = columns;
    this.weights = weight;
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
    return 4;
  }

  @Override
  public void multiply(
      float[] x, int xOffset, int tokens, float[] y, int yOffset, int from, int to) {
    for (int o = from; o < to; o++) {
      int w = o * columns;
      int t = 0;
      for (; t + 4 <= tokens; t += 4) {
        dots4(w, x, xOffset + t * columns, y, yOffset + t * rows + o);
      }
      for (; t < tokens; t++) {
        y[yOffset + t * rows + o] = VectorMath.dot(weights, w, x, xOffset + t * columns, columns);
      }
    }
  }

  /** One output for four consecutive tokens. */
  private void dots4(int w, float[] x, int x0, float[] y, int yAt) {
    FloatVector s0 = FloatVector.zero(SPECIES);
    FloatVector s1 = s0;
    FloatVector s2 = s0;
    FloatVector s3 = s0;
    int i = 0;
    for (int bound = SPECIES.loopBound(columns); i < bound; i += LANES) {
      FloatVector wv = FloatVector.fromArray(SPECIES, weights, w + i);
      s0 = wv.fma(FloatVector.fromArray(SPECIES, x, x0 + i), s0);
      s1 = wv.fma(FloatVector.fromArray(SPECIES, x, x0 + columns + i), s1);
      s2 = wv.fma(FloatVector.fromArray(SPECIES, x, x0 + 2 * columns + i), s2);
      s3 = wv.fma(FloatVector.fromArray(SPECIES, x, x0 + 3 * columns + i), s3);
    }
    float r0 = s0.reduceLanes(VectorOperators.ADD);
    float r1 = s1.reduceLanes(VectorOperators.ADD);
    float r2 = s2.reduceLanes(VectorOperators.ADD);
    float r3 = s3.reduceLanes(VectorOperators.ADD);
    for (; i < columns; i++) {
      float wi = weights[w + i];
      r0 += wi * x[x0 + i];
      r1 += wi * x[x0 + columns + i];
      r2 += wi * x[x0 + 2 * columns + i];
      r3 += wi * x[x0 + 3 * columns + i];
    }
    y[yAt] = r0;
    y[yAt + rows] = r1;
    y[yAt + 2 * rows] = r2;
    y[yAt + 3 * rows] = r3;
  }

  @Override
  public void row(int row, float[] destination, int offset) {
    System.arraycopy(weights, row * columns, destination, offset, columns);
  }
}
