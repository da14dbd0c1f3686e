package io.specd.policies;

import io.specd.policies.adaedl.AdaEdlSettings;
import io.specd.policies.bandit.BanditSettings;
import io.specd.policies.budget.BudgetSettings;

/**
 * Everything {@link PolicyFactory} needs to build the policies of one drafter.
 *
 * @param shape the drafter's shape (depth cap, branching, nodes per depth)
 * @param confidenceThreshold η of the {@code confidence} policy's exit, in [0, 1]
 * @param adaEdl tuning of the {@code adaedl} policy
 * @param budget tuning of the {@code tree} policy
 * @param bandit tuning of the {@code bandit} policy
 */
public record PolicySettings(
    DraftShape shape,
    double confidenceThreshold,
    AdaEdlSettings adaEdl,
    BudgetSettings budget,
    BanditSettings bandit) {

  /** Kangaroo's confidence exit threshold. */
  public static final double KANGAROO_ETA = 0.6;

  public PolicySettings {
    if (shape == null || adaEdl == null || budget == null || bandit == null) {
      throw new IllegalArgumentException("policy settings need a shape and every policy's tuning");
    }
    if (!(confidenceThreshold >= 0 && confidenceThreshold <= 1)) {
      throw new IllegalArgumentException(
          "confidence threshold must be in [0, 1], got " + confidenceThreshold);
    }
  }

  /** The default tuning of every policy for a drafter of this shape (η = 0.6). */
  public static PolicySettings defaults(DraftShape shape) {
    return new PolicySettings(
        shape,
        KANGAROO_ETA,
        AdaEdlSettings.DEFAULTS,
        BudgetSettings.DEFAULTS,
        BanditSettings.DEFAULTS);
  }
}
