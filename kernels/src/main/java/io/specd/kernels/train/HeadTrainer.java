package io.specd.kernels.train;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.format.SafetensorsWriter;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Trains one kind of draft head on a distillation corpus. The training loop ({@link HeadTraining})
 * owns the optimizer, the schedule and checkpoints; a trainer owns the parameters and the loss.
 */
public interface HeadTrainer extends AutoCloseable {

  /** The drafter kind ({@code medusa}, {@code clover}, {@code kangaroo}). */
  String kind();

  /** The trainable arrays, in a fixed order (checkpoints rely on it). */
  List<NDArray> parameters();

  /**
   * Computes the loss of one random minibatch and back-propagates it into the parameters' gradients
   * (the optimizer applies them).
   *
   * @param random the step's generator (seeded per step, so training resumes exactly)
   * @return the loss
   */
  float step(SplittableRandom random);

  /**
   * The checkpoint contents: the head tensors in the kind's layout and the kind's config (the
   * Medusa tree, the exit layer, …), measured on the corpus where needed.
   */
  void export(SafetensorsWriter tensors, ObjectNode config);

  @Override
  void close();
}
