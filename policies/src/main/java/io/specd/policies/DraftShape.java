package io.specd.policies;

import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;

/**
 * The drafter-specific shape every policy drafts in: the deepest draft it may plan, the children
 * considered per expanded node, and how many tree nodes one depth level adds to the budget. A chain
 * is one node per depth and one child per node. Policies choose the depth (and so the node budget,
 * {@code depth × nodesPerDepth}) and the stop rule; the drafter expands the tree inside that budget
 * (by cumulative confidence for dynamic trees).
 *
 * @param maxDepth the deepest draft token a learning policy plans (≥ 1)
 * @param branching children considered per expanded node (≥ 1; 1 for a chain)
 * @param nodesPerDepth draft nodes budgeted per depth level (≥ 1; 1 for a chain)
 */
public record DraftShape(int maxDepth, int branching, int nodesPerDepth) {
  /**
   * A drafter's name with prompt lookup first ({@code kangaroo+lookup}) drafts in its own shape.
   */
  private static final String LOOKUP_FIRST = "+lookup";

  public DraftShape {
    if (maxDepth < 1 || branching < 1 || nodesPerDepth < 1) {
      throw new IllegalArgumentException(
          "a draft shape needs max depth, branching and nodes per depth >= 1, got "
              + maxDepth
              + ", "
              + branching
              + ", "
              + nodesPerDepth);
    }
  }

  /** A chain of at most {@code maxDepth} draft tokens. */
  public static DraftShape chain(int maxDepth) {
    return new DraftShape(maxDepth, 1, 1);
  }

  /** A tree at most {@code maxDepth} deep, {@code nodesPerDepth} nodes per level. */
  public static DraftShape tree(int maxDepth, int branching, int nodesPerDepth) {
    return new DraftShape(maxDepth, branching, nodesPerDepth);
  }

  /**
   * Starting shapes for the drafters this project ships, from {@code specd bench} sweeps on the
   * default model (docs/BENCHMARKS.md); the engine may pass its own instead. Verification cost
   * grows with the tree (about 15 µs a node on these CPUs), so the trees are small: Clover-2 5 deep
   * with 3 nodes per level and 4 children per expanded node (EAGLE-2-style dynamic tree); Medusa 4
   * deep with 4 nodes per level among the top 8 of each head (its calibrated static tree, cut);
   * Kangaroo a chain capped at 6 tokens (its reference code's cap); prompt lookup up to 8 deep, two
   * matches of the text side by side (its drafts cost nothing; what it copies is often long). Any
   * other drafter gets a 4-token chain.
   *
   * @param drafter the drafter's name ({@code kangaroo}, {@code medusa}, {@code medusa+ngram},
   *     {@code clover}, …)
   */
  public static DraftShape forDrafter(String drafter) {
    return switch (headDrafter(drafter)) {
      case "kangaroo" -> chain(6);
      case "medusa", "medusa+ngram" -> tree(4, 8, 4);
      case "clover" -> tree(5, 4, 3);
      case "lookup" -> tree(8, 2, 2);
      default -> chain(4);
    };
  }

  /**
   * The drafter whose shape and defaults a name takes: {@code kangaroo} for {@code kangaroo+lookup}
   * (prompt lookup first, which drafts in any shape), else the name.
   */
  public static String headDrafter(String drafter) {
    return drafter.endsWith(LOOKUP_FIRST)
        ? drafter.substring(0, drafter.length() - LOOKUP_FIRST.length())
        : drafter;
  }

  /** True when the shape drafts a single line of tokens. */
  public boolean isChain() {
    return branching == 1 && nodesPerDepth == 1;
  }

  /** The node budget of a draft {@code depth} deep: {@code depth × nodesPerDepth}. */
  public int nodes(int depth) {
    return depth * nodesPerDepth;
  }

  /**
   * The plan drafting {@code depth} deep in this shape.
   *
   * @param depth the deepest draft token (≥ 1; may exceed {@link #maxDepth} for explicit plans)
   * @param stop the early-stop rule the drafter applies
   */
  public Plan plan(int depth, StopRule stop) {
    return isChain() ? Plan.chain(depth, stop) : Plan.tree(depth, nodes(depth), branching, stop);
  }

  /** The same shape with {@code nodesPerDepth} nodes per level (a narrower or wider tree). */
  public DraftShape withNodesPerDepth(int nodes) {
    return new DraftShape(maxDepth, branching, nodes);
  }
}
