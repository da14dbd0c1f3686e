package io.specd.policies.spec;

/**
 * How one decoding step drafts: whether to speculate at all, how deep, how many tree nodes, how
 * many children per expanded node, and when to stop early.
 *
 * @param speculate false for a plain decoding step (no draft)
 * @param maxDepth the deepest draft token (1 = one token beyond the root)
 * @param nodeBudget draft nodes allowed in the tree, root excluded ({@code maxDepth} for a chain)
 * @param branching children considered per expanded node (1 = a chain)
 * @param stop early-stop rule applied while drafting
 */
public record Plan(boolean speculate, int maxDepth, int nodeBudget, int branching, StopRule stop) {

  /** A plain decoding step. */
  public static final Plan NO_SPECULATION = new Plan(false, 0, 0, 1, StopRule.NONE);

  public Plan {
    if (speculate && (maxDepth < 1 || nodeBudget < 1 || branching < 1)) {
      throw new IllegalArgumentException(
          "a speculative plan needs depth, node budget and branching >= 1, got "
              + maxDepth
              + ", "
              + nodeBudget
              + ", "
              + branching);
    }
    if (nodeBudget < maxDepth && speculate) {
      throw new IllegalArgumentException(
          "a node budget of " + nodeBudget + " cannot reach depth " + maxDepth);
    }
  }

  /** A chain of {@code depth} draft tokens. */
  public static Plan chain(int depth, StopRule stop) {
    return new Plan(true, depth, depth, 1, stop);
  }

  /** A tree of at most {@code nodes} draft nodes, {@code depth} deep, {@code branching} wide. */
  public static Plan tree(int depth, int nodes, int branching, StopRule stop) {
    return new Plan(true, depth, nodes, branching, stop);
  }

  /**
   * The same plan cut to fit: at most {@code nodes} draft nodes and {@code depth} deep (the room
   * left in a KV cache, the tokens left to generate); no speculation when nothing fits.
   */
  public Plan limitedTo(int nodes, int depth) {
    int newDepth = Math.min(Math.min(maxDepth, depth), nodes);
    if (!speculate || newDepth < 1) {
      return NO_SPECULATION;
    }
    return new Plan(true, newDepth, Math.min(nodeBudget, nodes), branching, stop);
  }

  /** The same plan with another stop rule. */
  public Plan withStop(StopRule newStop) {
    return new Plan(speculate, maxDepth, nodeBudget, branching, newStop);
  }
}
