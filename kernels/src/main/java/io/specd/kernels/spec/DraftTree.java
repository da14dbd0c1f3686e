package io.specd.kernels.spec;

import io.specd.kernels.llama.AncestorMask;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A token tree proposed by a drafter. Node 0 is the root: the token the target already chose, not
 * yet in the KV cache, verified in the same forward as the drafts. Every other node is a draft
 * token whose parent precedes it. Siblings hold distinct tokens and are listed in the order the
 * drafter ranks them.
 *
 * <p>Each draft node records the draft distribution it was chosen from (its top-1 probability and
 * entropy, for stop rules and policies) and, for {@link Proposals#SAMPLED} trees, the whole warped
 * distribution, which lossless chain verification needs. Immutable once built.
 */
public final class DraftTree {

  /** How draft tokens were chosen, which decides the lossless acceptance rule at T &gt; 0. */
  public enum Proposals {
    /** Deterministic (top-k) children: each child is a point-mass proposal. */
    POINT_MASS,
    /** Each child was sampled from the recorded draft distribution (chains only). */
    SAMPLED
  }

  private final Proposals proposals;
  private final int[] tokens;
  private final int[] parents;
  private final int[] depths;
  private final float[] draftProbability;
  private final float[] topProbability;
  private final float[] entropy;
  private final float[][] distributions;
  private final int[][] children;

  private DraftTree(Builder b) {
    this.proposals = b.proposals;
    int n = b.tokens.size();
    this.tokens = new int[n];
    this.parents = new int[n];
    this.depths = new int[n];
    this.draftProbability = new float[n];
    this.topProbability = new float[n];
    this.entropy = new float[n];
    this.distributions = new float[n][];
    for (int i = 0; i < n; i++) {
      tokens[i] = b.tokens.get(i);
      parents[i] = b.parents.get(i);
      depths[i] = i == 0 ? 0 : depths[parents[i]] + 1;
      draftProbability[i] = b.draftProbability.get(i);
      topProbability[i] = b.topProbability.get(i);
      entropy[i] = b.entropy.get(i);
      distributions[i] = b.distributions.get(i);
    }
    this.children = new int[n][];
    int[] counts = new int[n];
    for (int i = 1; i < n; i++) {
      counts[parents[i]]++;
    }
    for (int i = 0; i < n; i++) {
      children[i] = new int[counts[i]];
      counts[i] = 0;
    }
    for (int i = 1; i < n; i++) {
      children[parents[i]][counts[parents[i]]++] = i;
    }
  }

  /** A tree of the root alone (a plain decoding step). */
  public static DraftTree rootOnly(int root) {
    return builder(root, Proposals.POINT_MASS).build();
  }

  public static Builder builder(int root, Proposals proposals) {
    return new Builder(root, proposals);
  }

  public Proposals proposals() {
    return proposals;
  }

  /** Nodes, the root included. */
  public int size() {
    return tokens.length;
  }

  public int token(int node) {
    return tokens[node];
  }

  /** All node tokens, root first. */
  public int[] tokens() {
    return tokens.clone();
  }

  public int parent(int node) {
    return parents[node];
  }

  public int depth(int node) {
    return depths[node];
  }

  /** The deepest node's depth (0 for the root alone). */
  public int maxDepth() {
    return Arrays.stream(depths).max().orElse(0);
  }

  /** The children of a node, in the drafter's rank order. */
  public int[] children(int node) {
    return children[node].clone();
  }

  int childCount(int node) {
    return children[node].length;
  }

  int child(int node, int rank) {
    return children[node][rank];
  }

  /** The draft probability of a node's token. */
  public float draftProbability(int node) {
    return draftProbability[node];
  }

  /** The top-1 probability of the draft distribution a node was chosen from. */
  public float topProbability(int node) {
    return topProbability[node];
  }

  /** The entropy (nats) of the draft distribution a node was chosen from. */
  public float entropy(int node) {
    return entropy[node];
  }

  /** The warped draft distribution a sampled node was drawn from (null for point masses). */
  float[] distribution(int node) {
    return distributions[node];
  }

  /** Tree attention: each node sees itself and its ancestors. */
  public AncestorMask mask() {
    return AncestorMask.tree(parents);
  }

  /** RoPE positions: {@code prefix + depth}. */
  public int[] positions(int prefix) {
    int[] positions = new int[tokens.length];
    for (int i = 0; i < positions.length; i++) {
      positions[i] = prefix + depths[i];
    }
    return positions;
  }

  /**
   * The main line: the chain of first-ranked children from the root (node indices, root excluded).
   */
  public int[] mainLine() {
    List<Integer> line = new ArrayList<>();
    for (int node = 0; children[node].length > 0; node = children[node][0]) {
      line.add(children[node][0]);
    }
    return line.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Builds a tree node by node; parents must be added before their children. */
  public static final class Builder {
    private final Proposals proposals;
    private final List<Integer> tokens = new ArrayList<>();
    private final List<Integer> parents = new ArrayList<>();
    private final List<Float> draftProbability = new ArrayList<>();
    private final List<Float> topProbability = new ArrayList<>();
    private final List<Float> entropy = new ArrayList<>();
    private final List<float[]> distributions = new ArrayList<>();

    private Builder(int root, Proposals proposals) {
      this.proposals = proposals;
      tokens.add(root);
      parents.add(-1);
      draftProbability.add(1f);
      topProbability.add(1f);
      entropy.add(0f);
      distributions.add(null);
    }

    /**
     * Adds a draft node.
     *
     * @param parent an existing node
     * @param token the draft token (distinct from its siblings')
     * @param probability its draft probability
     * @param top the top-1 probability of the distribution it came from
     * @param entropy that distribution's entropy
     * @param distribution that (warped) distribution, required for sampled trees, else null
     * @return the new node's index
     */
    public int add(
        int parent, int token, float probability, float top, float entropy, float[] distribution) {
      if (parent < 0 || parent >= tokens.size()) {
        throw new IllegalArgumentException("parent " + parent + " does not exist yet");
      }
      for (int i = 1; i < tokens.size(); i++) {
        if (parents.get(i) == parent && tokens.get(i) == token) {
          throw new IllegalArgumentException("token " + token + " is already a child of " + parent);
        }
      }
      if ((proposals == Proposals.SAMPLED) != (distribution != null)) {
        throw new IllegalArgumentException(
            "sampled trees need each node's distribution; point-mass trees take none");
      }
      tokens.add(token);
      parents.add(parent);
      draftProbability.add(probability);
      topProbability.add(top);
      this.entropy.add(entropy);
      distributions.add(distribution);
      return tokens.size() - 1;
    }

    /** Nodes added so far, the root included. */
    public int size() {
      return tokens.size();
    }

    public DraftTree build() {
      return new DraftTree(this);
    }
  }
}
