package io.specd.kernels.cpu;

import io.specd.kernels.quant.SplitQ8_0Rows;

/**
 * A Q8_0 matrix repacked on the heap into quants and float32 scales ({@link SplitQ8_0Rows}), read
 * straight by its kernels: the fastest encoding for products on matrices that do not fit in cache.
 */
final class SplitQ8_0Matrix implements WeightMatrix {
  private final SplitQ8_0Rows rows;

  SplitQ8_0Matrix(SplitQ8_0Rows rows) {
    this.rows = rows;
  }

  @Override
  public int rows() {
    return rows.rows();
  }

  @Override
  public int columns() {
    return rows.columns();
  }

  @Override
  public int grain() {
    return 2; // rows go in pairs
  }

  @Override
  public void multiply(
      float[] x, int xOffset, int tokens, float[] y, int yOffset, int from, int to) {
    rows.multiply(x, xOffset, tokens, y, yOffset, from, to);
  }

  @Override
  public void row(int row, float[] destination, int offset) {
    rows.dequantizeRow(row, destination, offset);
  }
}
