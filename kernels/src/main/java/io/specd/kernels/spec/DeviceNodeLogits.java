package io.specd.kernels.spec;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * Node logits read from a verification output {@code [rows, vocab]}: the argmax of every row in one
 * device op when first asked (shared by the sessions of a batch), full rows one at a time (sampling
 * only visits the accepted path).
 */
final class DeviceNodeLogits implements NodeLogits {
  private final NDArray logits;
  private final int firstRow;
  private final RowArgmax argmax;

  /**
   * @param logits {@code [rows, vocab]}; node {@code i} is row {@code firstRow + i}
   * @param argmax the argmax of {@code logits}' rows, computed once for every reader
   */
  DeviceNodeLogits(NDArray logits, int firstRow, RowArgmax argmax) {
    this.logits = logits;
    this.firstRow = firstRow;
    this.argmax = argmax;
  }

  /** Node logits of a verification output read by one session alone. */
  DeviceNodeLogits(NDArray logits, int firstRow) {
    this(logits, firstRow, new RowArgmax(logits));
  }

  /** The argmax of every row of a logits array, fetched from the device on first use. */
  static final class RowArgmax {
    private final NDArray logits;
    private long[] rows;

    /**
     * @param logits {@code [rows, vocab]}
     */
    RowArgmax(NDArray logits) {
      this.logits = logits;
    }

    long get(int row) {
      if (rows == null) {
        rows = logits.argMax(1).toLongArray();
      }
      return rows[row];
    }
  }

  @Override
  public int argmax(int node) {
    return (int) argmax.get(firstRow + node);
  }

  @Override
  public float[] logits(int node) {
    NDArray row = logits.get(new NDIndex().addIndices(firstRow + node));
    try {
      return row.toFloatArray();
    } finally {
      row.close();
    }
  }
}
