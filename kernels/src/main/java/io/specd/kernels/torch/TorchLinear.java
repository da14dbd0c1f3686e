package io.specd.kernels.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.llama.Linear;
import java.util.Arrays;

/** A matrix on a DJL device: {@code y = x · Wᵀ} as one product with the stored {@code Wᵀ}. */
final class TorchLinear implements Linear {
  private final NDArray transposed; // [inputs, outputs]
  private final NDManager owner; // closes with the matrix, or null when the array is borrowed

  /**
   * @param transposed {@code Wᵀ [inputs, outputs]}
   * @param owner the manager that holds it and that {@link #close} frees, or null for a borrowed
   *     array (the LM head belongs to its model)
   */
  TorchLinear(NDArray transposed, NDManager owner) {
    this.transposed = transposed;
    this.owner = owner;
  }

  @Override
  public int inputs() {
    return (int) transposed.getShape().get(0);
  }

  @Override
  public int outputs() {
    return (int) transposed.getShape().get(1);
  }

  @Override
  public void apply(float[] x, int xOffset, int rows, float[] y, int yOffset) {
    try (NDManager step = transposed.getManager().newSubManager()) {
      float[] input = Arrays.copyOfRange(x, xOffset, xOffset + rows * inputs());
      float[] out = step.create(input, new Shape(rows, inputs())).matMul(transposed).toFloatArray();
      System.arraycopy(out, 0, y, yOffset, out.length);
    }
  }

  @Override
  public void row(int output, float[] destination, int offset) {
    try (NDManager step = transposed.getManager().newSubManager()) {
      NDArray column = transposed.get(new NDIndex(":, {}", output));
      column.attach(step);
      float[] values = column.toFloatArray();
      System.arraycopy(values, 0, destination, offset, values.length);
    }
  }

  @Override
  public void close() {
    if (owner != null) {
      owner.close();
    }
  }
}
