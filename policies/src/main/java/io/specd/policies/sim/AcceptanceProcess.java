package io.specd.policies.sim;

import java.util.Arrays;
import java.util.List;

/**
 * A known acceptance process for the simulator: the probability that the main-line draft token at
 * each depth is accepted given that its prefix was, optionally switching to other probabilities at
 * a given step (to test adaptation), and how much the extra candidates of a tree help.
 *
 * @param before acceptance probability per depth before the change, index 0 = depth 1; deeper
 *     depths repeat the last value
 * @param changeAtStep the first step (counting from 0) that follows {@code after}
 * @param after acceptance probability per depth from {@code changeAtStep} on
 * @param siblingGain when a main-line token is rejected, the chance that each extra candidate
 *     beside it is accepted instead, in [0, 1)
 */
public record AcceptanceProcess(
    List<Double> before, long changeAtStep, List<Double> after, double siblingGain) {

  /** The sibling gain of the factories: each extra candidate recovers 30% of rejections. */
  public static final double DEFAULT_SIBLING_GAIN = 0.3;

  public AcceptanceProcess {
    before = List.copyOf(before);
    after = List.copyOf(after);
    if (before.isEmpty() || after.isEmpty()) {
      throw new IllegalArgumentException("an acceptance process needs at least one depth");
    }
    if (!before.stream().allMatch(AcceptanceProcess::isProbability)
        || !after.stream().allMatch(AcceptanceProcess::isProbability)) {
      throw new IllegalArgumentException(
          "acceptance probabilities must be in [0, 1], got " + before + " then " + after);
    }
    if (changeAtStep < 0) {
      throw new IllegalArgumentException("change step must be >= 0, got " + changeAtStep);
    }
    if (!(siblingGain >= 0 && siblingGain < 1)) {
      throw new IllegalArgumentException("sibling gain must be in [0, 1), got " + siblingGain);
    }
  }

  /** The same acceptance probabilities at every step. */
  public static AcceptanceProcess constant(double... perDepth) {
    List<Double> probabilities = boxed(perDepth);
    return new AcceptanceProcess(
        probabilities, Long.MAX_VALUE, probabilities, DEFAULT_SIBLING_GAIN);
  }

  /** {@code before} until step {@code changeAtStep}, {@code after} from then on. */
  public static AcceptanceProcess changing(double[] before, long changeAtStep, double[] after) {
    return new AcceptanceProcess(boxed(before), changeAtStep, boxed(after), DEFAULT_SIBLING_GAIN);
  }

  /** The same process with another sibling gain. */
  public AcceptanceProcess withSiblingGain(double gain) {
    return new AcceptanceProcess(before, changeAtStep, after, gain);
  }

  /** The acceptance probability at {@code depth} (≥ 1) on {@code step}. */
  public double at(int depth, long step) {
    List<Double> current = step < changeAtStep ? before : after;
    return current.get(Math.min(depth, current.size()) - 1);
  }

  private static boolean isProbability(double p) {
    return p >= 0 && p <= 1;
  }

  private static List<Double> boxed(double[] values) {
    return Arrays.stream(values).boxed().toList();
  }
}
