package io.specd.kernels.heads;

import io.specd.kernels.spec.DraftTree;
import io.specd.policies.spec.Plan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Dynamic draft trees by cumulative confidence (EAGLE-2 style), for drafters whose children depend
 * on their parent (Clover-2, Kangaroo): each depth expands the most probable frontier nodes, each
 * proposes its top children, and the final tree keeps the {@code nodeBudget} candidates with the
 * highest path probability (product of draft probabilities), parents before children. A node whose
 * own draft distribution fails the plan's stop rule is kept but not expanded.
 *
 * <p>Not thread-safe; one instance builds one tree.
 */
public final class TreeSearch {
  /** A candidate node. */
  public static final class Candidate {
    final int parent; // candidate index, -1 for the root
    final int token;
    final float probability;
    final float top;
    final float entropy;
    final double score; // log of the path probability
    final int depth;
    final int index;

    Candidate(
        int index,
        int parent,
        int token,
        float probability,
        float top,
        float entropy,
        double score,
        int depth) {
      this.index = index;
      this.parent = parent;
      this.token = token;
      this.probability = probability;
      this.top = top;
      this.entropy = entropy;
      this.score = score;
      this.depth = depth;
    }

    public int index() {
      return index;
    }

    public int token() {
      return token;
    }

    public int depth() {
      return depth;
    }
  }

  private final Plan plan;
  private final List<Candidate> candidates = new ArrayList<>();

  public TreeSearch(Plan plan) {
    this.plan = plan;
  }

  /**
   * Adds the children a node proposes (the root is parent -1).
   *
   * @param parent candidate index of the parent, or -1 for the root
   * @param distribution the draft distribution at the parent
   * @return the new candidates
   */
  public List<Candidate> expand(int parent, DraftDistribution distribution) {
    double base = parent < 0 ? 0 : candidates.get(parent).score;
    int depth = parent < 0 ? 1 : candidates.get(parent).depth + 1;
    List<Candidate> added = new ArrayList<>();
    int width = Math.min(plan.branching(), distribution.size());
    for (int rank = 0; rank < width; rank++) {
      float p = distribution.probability(rank);
      if (p <= 0) {
        break;
      }
      Candidate c =
          new Candidate(
              candidates.size(),
              parent,
              distribution.token(rank),
              p,
              distribution.top(),
              distribution.entropy(),
              base + Math.log(p),
              depth);
      candidates.add(c);
      added.add(c);
    }
    return added;
  }

  /**
   * The frontier to expand next among {@code nodes}: the most probable ones (at most {@code
   * branching}, so work per depth stays bounded), excluding nodes that failed the stop rule.
   */
  public List<Candidate> frontier(List<Candidate> nodes) {
    return nodes.stream()
        .filter(c -> !plan.stop().shouldStop(c.top, c.entropy))
        .sorted(Comparator.comparingDouble((Candidate c) -> -c.score))
        .limit(plan.branching())
        .toList();
  }

  /** The final tree: the best {@code nodeBudget} candidates, each with its parent. */
  public DraftTree build(int root) {
    List<Candidate> ranked =
        candidates.stream().sorted(Comparator.comparingDouble((Candidate c) -> -c.score)).toList();
    boolean[] kept = new boolean[candidates.size()];
    int budget = plan.nodeBudget();
    for (Candidate c : ranked) {
      if (budget == 0) {
        break;
      }
      if (c.parent < 0 || kept[c.parent]) {
        kept[c.index] = true;
        budget--;
      }
    }
    // candidates were created parents first, so index order is a valid node order
    DraftTree.Builder builder = DraftTree.builder(root, DraftTree.Proposals.POINT_MASS);
    int[] node = new int[candidates.size()];
    for (Candidate c : candidates) {
      if (kept[c.index]) {
        int parentNode = c.parent < 0 ? 0 : node[c.parent];
        node[c.index] = builder.add(parentNode, c.token, c.probability, c.top, c.entropy, null);
      }
    }
    return builder.build();
  }
}
