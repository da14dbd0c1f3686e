package io.specd.kernels.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import java.util.function.Supplier;

/** Small autograd helpers. */
final class Training {
  private Training() {}

  /**
   * Computes a scalar loss with gradient recording on and back-propagates it into the gradients of
   * the arrays that require them.
   *
   * @return the loss value
   */
  static float minimize(Supplier<NDArray> loss) {
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray value = loss.get();
      collector.backward(value);
      return value.getFloat();
    }
  }
}
