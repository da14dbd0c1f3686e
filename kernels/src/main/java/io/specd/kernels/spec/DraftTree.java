package io.specd.kernels.spec;

import io.specd.kernels.llama.AncestorMask;
import java.util.Arrays;

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

  private static final int[] NO_CHILDREN = {};

  // a root alone: every field but its token is the same, and nothing here is ever written
  private static final int[] ROOT_PARENTS = {-1};
  private static final int[] ROOT_DEPTHS = {0};
  private static final float[] ROOT_PROBABILITY = {1f};
  private static final float[] ROOT_ENTROPY = {0f};
  private static final float[][] ROOT_DISTRIBUTIONS = {null};
  private static final int[][] ROOT_CHILDREN = {NO_CHILDREN};

  private final Proposals proposals;
  private final int[] tokens;
  private final int[] parents;
  private final int[] depths;
  private final float[] draftProbability;
  private final float[] topProbability;
  private final float[] entropy;
  private final float[][] distributions;
  private final int[][] children;
  private final int maxDepth;

  private DraftTree(Builder b) {
    this.proposals = b.proposals;
    int n = b.size;
    this.tokens = Arrays.copyOf(b.tokens, n);
    this.parents = Arrays.copyOf(b.parents, n);
    this.depths = new int[n];
    this.draftProbability = Arrays.copyOf(b.draftProbability, n);
    this.topProbability = Arrays.copyOf(b.topProbability, n);
    this.entropy = Arrays.copyOf(b.entropy, n);
    this.distributions = Arrays.copyOf(b.distributions, n);
    int deepest = 0;
    for (int i = 1; i < n; i++) {
      depths[i] = depths[parents[i]] + 1;
      deepest = Math.max(deepest, depths[i]);
    }
    this.maxDepth = deepest;
    this.children = new int[n][];
    int[] counts = new int[n];
    for (int i = 1; i < n; i++) {
      counts[parents[i]]++;
    }
    for (int i = 0; i < n; i++) {
      children[i] = counts[i] == 0 ? NO_CHILDREN : new int[counts[i]];
      counts[i] = 0;
    }
    for (int i = 1; i < n; i++) {
      children[parents[i]][counts[parents[i]]++] = i;
    }
  }

  private DraftTree(int root) {
    this.proposals = Proposals.POINT_MASS;
    this.tokens = new int[] {root};
    this.parents = ROOT_PARENTS;
    this.depths = ROOT_DEPTHS;
    this.draftProbability = ROOT_PROBABILITY;
    this.topProbability = ROOT_PROBABILITY;
    this.entropy = ROOT_ENTROPY;
    this.distributions = ROOT_DISTRIBUTIONS;
    this.children = ROOT_CHILDREN;
    this.maxDepth = 0;
  }

  /** A tree of the root alone (a plain decoding step). */
  public static DraftTree rootOnly(int root) {
    return new DraftTree(root);
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
    return maxDepth;
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
    int length = 0;
    for (int node = 0; children[node].length > 0; node = children[node][0]) {
      length++;
    }
    int[] line = new int[length];
    for (int i = 0, node = 0; i < length; i++) {
      node = children[node][0];
      line[i] = node;
    }
    return line;
  }

  /** Builds a tree node by node; parents must be added before their children. */
  public static final class Builder {
    private final Proposals proposals;
    // node i's fields at index i, grown by doubling
    private int[] tokens = new int[8];
    private int[] parents = new int[8];
    private float[] draftProbability = new float[8];
    private float[] topProbability = new float[8];
    private float[] entropy = new float[8];
    private float[][] distributions = new float[8][];
    private int size;

    private Builder(int root, Proposals proposals) {
      this.proposals = proposals;
      append(root, -1, 1f, 1f, 0f, null);
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
      if (parent < 0 || parent >= size) {
        throw new IllegalArgumentException("parent " + parent + " does not exist yet");
      }
      for (int i = 1; i < size; i++) {
        if (parents[i] == parent && tokens[i] == token) {
          throw new IllegalArgumentException("token " + token + " is already a child of " + parent);
        }
      }
      if ((proposals == Proposals.SAMPLED) != (distribution != null)) {
        throw new IllegalArgumentException(
            "sampled trees need each node's distribution; point-mass trees take none");
      }
      append(token, parent, probability, top, entropy, distribution);
      return size - 1;
    }

    private void append(
        int token, int parent, float probability, float top, float entropy, float[] distribution) {
      if (size == tokens.length) {
        int grown = 2 * size;
        tokens = Arrays.copyOf(tokens, grown);
        parents = Arrays.copyOf(parents, grown);
        draftProbability = Arrays.copyOf(draftProbability, grown);
        topProbability = Arrays.copyOf(topProbability, grown);
        this.entropy = Arrays.copyOf(this.entropy, grown);
        distributions = Arrays.copyOf(distributions, grown);
      }
      tokens[size] = token;
      parents[size] = parent;
      draftProbability[size] = probability;
      topProbability[size] = top;
      this.entropy[size] = entropy;
      distributions[size] = distribution;
      size++;
    }

    /** Nodes added so far, the root included. */
    public int size() {
      return size;
    }

    public DraftTree build() {
      return new DraftTree(this);
    }
  }
}
