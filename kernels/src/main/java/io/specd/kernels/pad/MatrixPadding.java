package io.specd.kernels.pad;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Widening of row-major host tensors: the source's values keep their row and column, the new region
 * is filled as asked. Matrices are {@code [out, in]} (PyTorch layout): a new column is an extra
 * input dimension, a new row an extra output.
 */
final class MatrixPadding {
  private MatrixPadding() {}

  /**
   * A {@code [rows, cols]} matrix widened to {@code [newRows, newCols]}.
   *
   * @param extraColumns what the source rows get in the new columns
   * @param extraRows what the new rows get (all their columns)
   */
  static float[] pad(
      float[] source,
      int rows,
      int cols,
      int newRows,
      int newCols,
      Fill extraColumns,
      Fill extraRows,
      RandomGenerator random) {
    float[] out = new float[Math.multiplyExact(newRows, newCols)];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(source, r * cols, out, r * newCols, cols);
      fill(out, r * newCols + cols, r * newCols + newCols, extraColumns, random);
    }
    fill(out, rows * newCols, out.length, extraRows, random);
    return out;
  }

  /**
   * An RMSNorm gain widened to {@code length} and multiplied by {@code scale}; the new dimensions
   * get {@code scale} (a unit gain, scaled: they only ever multiply zeros).
   */
  static float[] gain(float[] source, int length, float scale) {
    float[] out = new float[length];
    Arrays.fill(out, scale);
    for (int i = 0; i < source.length; i++) {
      out[i] = source[i] * scale;
    }
    return out;
  }

  /** A vector widened with zeros (a bias). */
  static float[] zeroPadded(float[] source, int length) {
    return Arrays.copyOf(source, length);
  }

  /** {@code count} values all filled alike. */
  static float[] filled(int count, Fill fill, RandomGenerator random) {
    float[] out = new float[count];
    fill(out, 0, count, fill, random);
    return out;
  }

  /** {@code [rows, a + b]} from {@code [rows, a]} and {@code [rows, b]} side by side. */
  static float[] besides(float[] left, int leftCols, float[] right, int rightCols, int rows) {
    float[] out = new float[rows * (leftCols + rightCols)];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(left, r * leftCols, out, r * (leftCols + rightCols), leftCols);
      System.arraycopy(right, r * rightCols, out, r * (leftCols + rightCols) + leftCols, rightCols);
    }
    return out;
  }

  /** Columns {@code [from, from + count)} of a {@code [rows, cols]} matrix. */
  static float[] columns(float[] matrix, int rows, int cols, int from, int count) {
    float[] out = new float[rows * count];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(matrix, r * cols + from, out, r * count, count);
    }
    return out;
  }

  private static void fill(float[] out, int from, int to, Fill fill, RandomGenerator random) {
    if (fill == Fill.RANDOM) {
      for (int i = from; i < to; i++) {
        out[i] = fill.next(random);
      }
    }
  }
}
