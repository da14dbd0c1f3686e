package io.specd.kernels.cpu;

import io.specd.kernels.llama.Linear;

/** A {@link Linear} on the {@code java} backend: a {@link WeightMatrix} and the threads to use. */
final class JavaLinear implements Linear, Parallel.RangeTask {
  private final WeightMatrix matrix;
  private final Parallel parallel;
  private float[] x;
  private int xOffset;
  private int rows;
  private float[] y;
  private int yOffset;

  JavaLinear(WeightMatrix matrix, Parallel parallel) {
    this.matrix = matrix;
    this.parallel = parallel;
  }

  @Override
  public int inputs() {
    return matrix.columns();
  }

  @Override
  public int outputs() {
    return matrix.rows();
  }

  @Override
  public void apply(float[] x, int xOffset, int rows, float[] y, int yOffset) {
    this.x = x;
    this.xOffset = xOffset;
    this.rows = rows;
    this.y = y;
    this.yOffset = yOffset;
    try {
      parallel.run(matrix.rows(), matrix.grain(), this);
    } finally {
      this.x = null;
      this.y = null;
    }
  }

  @Override
  public void run(int from, int to) {
    matrix.multiply(x, xOffset, rows, y, yOffset, from, to);
  }

  @Override
  public void row(int output, float[] destination, int offset) {
    matrix.row(output, destination, offset);
  }

  @Override
  public void close() {}
}
