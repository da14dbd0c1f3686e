package io.specd.kernels.spec;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * Node logits read from a verification output {@code [rows, vocab]}: the argmax of every node in
 * one device op when first asked, full rows one at a time (sampling only visits the accepted path).
 */
final class DeviceNodeLogits implements NodeLogits {
  private final NDArray logits;
  private final int firstRow;
  private long[] argmax;

  /**
   * @param logits {@code [rows, vocab]}; node {@code i} is row {@code firstRow + i}
   */
  DeviceNodeLogits(NDArray logits, int firstRow) {
    this.logits = logits;
    this.firstRow = firstRow;
  }

  @Override
  public int argmax(int node) {
    if (argmax == null) {
      argmax = logits.argMax(1).toLongArray();
    }
    return (int) argmax[firstRow + node];
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
