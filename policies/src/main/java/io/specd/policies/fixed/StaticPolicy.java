package io.specd.policies.fixed;

import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;

/** The baseline: the same plan every step, learning nothing. */
public final class StaticPolicy implements DraftPolicy {
  private final String name;
  private final Plan plan;

  public StaticPolicy(String name, Plan plan) {
    this.name = name;
    this.plan = plan;
  }

  /** {@code static-N}: draft {@code depth} deep with the drafter's own tree of {@code nodes}. */
  public static StaticPolicy of(int depth, int nodes, int branching) {
    return new StaticPolicy(
        "static-" + depth,
        nodes == depth && branching == 1
            ? Plan.chain(depth, io.specd.policies.spec.StopRule.NONE)
            : Plan.tree(depth, nodes, branching, io.specd.policies.spec.StopRule.NONE));
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Plan plan(DraftContext context) {
    return plan;
  }

  @Override
  public void reward(Outcome outcome) {}
}
