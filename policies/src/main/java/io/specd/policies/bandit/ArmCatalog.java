package io.specd.policies.bandit;

import io.specd.policies.DraftShape;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The arms a {@link BanditPolicy} chooses among, each a whole {@link Plan}: plain decoding ({@link
 * Plan#NO_SPECULATION}) and drafts of various depths, node budgets and stop thresholds.
 *
 * @param arms the plans, distinct, at least one
 */
public record ArmCatalog(List<Plan> arms) {

  private static final int[] DEPTHS = {1, 2, 3, 4, 6, 8, 12, 16};
  // Kangaroo's confidence exit η = 0.6 and a stricter one.
  private static final double[] CONFIDENCE_THRESHOLDS = {0.6, 0.85};
  private static final int NARROW_FACTOR = 4;

  public ArmCatalog {
    arms = List.copyOf(arms);
    if (arms.isEmpty()) {
      throw new IllegalArgumentException("a bandit needs at least one arm");
    }
    if (new HashSet<>(arms).size() != arms.size()) {
      throw new IllegalArgumentException("bandit arms must be distinct, got " + arms);
    }
  }

  /**
   * The default arms for a drafter's shape: no speculation; the shape at depths 1, 2, 3, 4, 6, 8, …
   * up to its maximum depth (and the maximum itself); for trees of at least four nodes per level
   * the same depths with a quarter of the nodes; and the full-depth draft with confidence exits at
   * η = 0.6 and 0.85. A 6-deep chain gives 8 arms, Medusa's default tree 11.
   */
  public static ArmCatalog from(DraftShape shape) {
    List<Plan> plans = new ArrayList<>();
    plans.add(Plan.NO_SPECULATION);
    List<DraftShape> widths =
        shape.nodesPerDepth() < NARROW_FACTOR
            ? List.of(shape)
            : List.of(shape.withNodesPerDepth(shape.nodesPerDepth() / NARROW_FACTOR), shape);
    int[] depths =
        IntStream.concat(
                IntStream.of(DEPTHS).filter(d -> d < shape.maxDepth()),
                IntStream.of(shape.maxDepth()))
            .toArray();
    for (DraftShape width : widths) {
      for (int depth : depths) {
        plans.add(width.plan(depth, StopRule.NONE));
      }
    }
    for (double eta : CONFIDENCE_THRESHOLDS) {
      plans.add(shape.plan(shape.maxDepth(), StopRule.confidence(eta)));
    }
    return new ArmCatalog(plans);
  }

  /** Number of arms. */
  public int size() {
    return arms.size();
  }

  /** The plan of arm {@code index}. */
  public Plan plan(int index) {
    return arms.get(index);
  }

  /** The index of the arm with this plan, or -1 when no arm has it. */
  public int indexOf(Plan plan) {
    return arms.indexOf(plan);
  }
}
