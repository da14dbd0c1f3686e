package io.specd.kernels.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.List;

/**
 * AdamW with decoupled weight decay (Loshchilov &amp; Hutter), one fused native update per
 * parameter, which also clears the parameter's gradient. The first and second moments live in the
 * optimizer's own manager and can be saved and restored, so training resumes exactly.
 */
public final class AdamW implements AutoCloseable {
  private final List<NDArray> parameters;
  private final NDArray[] means;
  private final NDArray[] variances;
  private final NDManager manager;
  private final float beta1;
  private final float beta2;
  private final float epsilon;
  private final float weightDecay;
  private int step;

  /**
   * @param parameters arrays that require gradients
   * @param manager where the moment arrays are created (the optimizer owns it from now on)
   */
  public AdamW(
      List<NDArray> parameters,
      NDManager manager,
      float beta1,
      float beta2,
      float epsilon,
      float weightDecay) {
    this.parameters = List.copyOf(parameters);
    this.manager = manager;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.weightDecay = weightDecay;
    this.means = new NDArray[parameters.size()];
    this.variances = new NDArray[parameters.size()];
    for (int i = 0; i < parameters.size(); i++) {
      means[i] = manager.zeros(parameters.get(i).getShape());
      variances[i] = manager.zeros(parameters.get(i).getShape());
    }
  }

  /** Applies one update with learning rate {@code lr} to every parameter that has a gradient. */
  public void step(float lr) {
    step++;
    double correction1 = 1 - Math.pow(beta1, step);
    double correction2 = 1 - Math.pow(beta2, step);
    float biasCorrectedLr = (float) (lr * Math.sqrt(correction2) / correction1);
    for (int i = 0; i < parameters.size(); i++) {
      NDArray parameter = parameters.get(i);
      NDArray gradient = parameter.getGradient();
      // DJL's PyTorch binding takes (weight, gradient, mean, variance) and clears the gradient
      parameter
          .getNDArrayInternal()
          .adamUpdate(
              new NDList(parameter, gradient, means[i], variances[i]),
              new NDList(parameter),
              lr,
              biasCorrectedLr,
              weightDecay,
              1f,
              Float.MAX_VALUE,
              beta1,
              beta2,
              epsilon,
              false,
              true);
      gradient.close();
    }
  }

  /** Updates done so far. */
  public int steps() {
    return step;
  }

  /** The moments, for a training checkpoint: means then variances, parameter order. */
  public float[][] state() {
    float[][] state = new float[2 * parameters.size()][];
    for (int i = 0; i < parameters.size(); i++) {
      state[i] = means[i].toFloatArray();
      state[parameters.size() + i] = variances[i].toFloatArray();
    }
    return state;
  }

  /** Restores {@link #state()} and the step count. */
  public void restore(float[][] state, int steps) {
    for (int i = 0; i < parameters.size(); i++) {
      means[i].set(java.nio.FloatBuffer.wrap(state[i]));
      variances[i].set(java.nio.FloatBuffer.wrap(state[parameters.size() + i]));
    }
    this.step = steps;
  }

  @Override
  public void close() {
    manager.close();
  }
}
