package io.specd.kernels.spec;

import io.specd.kernels.sample.Sampler;
import io.specd.kernels.sample.SamplingWorkspace;
import io.specd.policies.spec.SamplingParams;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Accept: picks the path of a verified draft tree to commit and the token that follows it.
 *
 * <ul>
 *   <li>Greedy: follow the child whose token is the target's argmax while one exists; the argmax
 *       after the last such node is the bonus token.
 *   <li>Lossless, point-mass children (any tree): at each accepted node with target distribution r
 *       (warped exactly as plain sampling warps it), try the children in rank order: accept child s
 *       with probability r(s), otherwise set r(s) = 0 and renormalise; when no child is accepted
 *       the next token is drawn from r. Each position's output is then distributed exactly as r.
 *   <li>Lossless, sampled chain: accept draft d with probability min(1, p(d)/q(d)); on rejection
 *       draw from normalise(max(0, p - q)); after the last draft draw from p.
 *   <li>Typical (lossy, Medusa): see {@link AcceptanceMode#TYPICAL_LOSSY}.
 * </ul>
 *
 * Uniform numbers are drawn in a fixed order (per depth, per sibling) from the request's generator,
 * so the same seed gives the same output; greedy verification draws none. Lossless sampling writes
 * its distributions to the request's {@link SamplingWorkspace}, so it allocates nothing of the
 * vocabulary's size; the typical mode allocates its own.
 */
public final class Verifier {
  static final double TYPICAL_EPSILON = 0.09;
  static final double TYPICAL_DELTA = 0.3;
  private static final double RESIDUAL_FLOOR = 1e-12;

  private Verifier() {}

  /**
   * Verifies a tree.
   *
   * @param tree the draft tree (node 0 is the root)
   * @param logits the target's logits after each node
   * @param sampling the request's sampling parameters
   * @param random the request's generator
   * @param mode lossless or (explicitly) typical acceptance, for T &gt; 0
   * @param workspace the request's sampling arrays, for the logits' vocabulary
   */
  public static Acceptance accept(
      DraftTree tree,
      NodeLogits logits,
      SamplingParams sampling,
      RandomGenerator random,
      AcceptanceMode mode,
      SamplingWorkspace workspace) {
    if (sampling.isGreedy()) {
      return greedy(tree, logits);
    }
    if (mode == AcceptanceMode.TYPICAL_LOSSY) {
      return typical(tree, logits, sampling);
    }
    return tree.proposals() == DraftTree.Proposals.SAMPLED
        ? sampledChain(tree, logits, sampling, random, workspace)
        : pointMass(tree, logits, sampling, random, workspace);
  }

  private static Acceptance greedy(DraftTree tree, NodeLogits logits) {
    AcceptedPath path = new AcceptedPath(tree);
    int node = 0;
    while (true) {
      int target = logits.argmax(node);
      int next = childWithToken(tree, node, target);
      if (next < 0) {
        return new Acceptance(path.nodes(), target);
      }
      path.add(next);
      node = next;
    }
  }

  private static Acceptance pointMass(
      DraftTree tree,
      NodeLogits logits,
      SamplingParams sampling,
      RandomGenerator random,
      SamplingWorkspace workspace) {
    AcceptedPath path = new AcceptedPath(tree);
    int node = 0;
    outer:
    while (true) {
      float[] p = distribution(logits, node, sampling, workspace);
      float[] r = p;
      for (int rank = 0; rank < tree.childCount(node); rank++) {
        int child = tree.child(node, rank);
        int token = tree.token(child);
        if (random.nextDouble() < r[token]) {
          path.add(child);
          node = child;
          continue outer;
        }
        if (r == p) {
          r = workspace.residual();
          System.arraycopy(p, 0, r, 0, p.length);
        }
        r[token] = 0f;
        r = normalise(r, p);
      }
      return new Acceptance(path.nodes(), Sampler.draw(r, random));
    }
  }

  private static Acceptance sampledChain(
      DraftTree tree,
      NodeLogits logits,
      SamplingParams sampling,
      RandomGenerator random,
      SamplingWorkspace workspace) {
    AcceptedPath path = new AcceptedPath(tree);
    int node = 0;
    while (true) {
      float[] p = distribution(logits, node, sampling, workspace);
      if (tree.childCount(node) == 0) {
        return new Acceptance(path.nodes(), Sampler.draw(p, random));
      }
      if (tree.childCount(node) > 1) {
        throw new IllegalArgumentException("sampled drafts must form a chain");
      }
      int child = tree.child(node, 0);
      int token = tree.token(child);
      float[] q = tree.distribution(child);
      double ratio = q[token] <= 0 ? 1.0 : Math.min(1.0, p[token] / (double) q[token]);
      if (random.nextDouble() < ratio) {
        path.add(child);
        node = child;
        continue;
      }
      float[] residual = workspace.residual();
      for (int v = 0; v < p.length; v++) {
        residual[v] = Math.max(0f, p[v] - q[v]);
      }
      return new Acceptance(path.nodes(), Sampler.draw(normalise(residual, p), random));
    }
  }

  private static Acceptance typical(DraftTree tree, NodeLogits logits, SamplingParams sampling) {
    // longest path whose every token clears its parent's threshold; ties by total log-probability
    int[] bestEnd = {0};
    double[] bestScore = {0};
    int[] bestLength = {0};
    typicalSearch(tree, logits, sampling, 0, 0, 0.0, bestEnd, bestLength, bestScore);
    int[] path = new int[tree.depth(bestEnd[0]) + 1];
    for (int node = bestEnd[0]; node >= 0; node = tree.parent(node)) {
      path[tree.depth(node)] = node;
    }
    return new Acceptance(path, logits.argmax(bestEnd[0]));
  }

  private static void typicalSearch(
      DraftTree tree,
      NodeLogits logits,
      SamplingParams sampling,
      int node,
      int length,
      double score,
      int[] bestEnd,
      int[] bestLength,
      double[] bestScore) {
    if (length > bestLength[0] || (length == bestLength[0] && score > bestScore[0])) {
      bestEnd[0] = node;
      bestLength[0] = length;
      bestScore[0] = score;
    }
    if (tree.childCount(node) == 0) {
      return;
    }
    // its own arrays: the search reads a node's distribution across its children's searches
    float[] p =
        distribution(
            logits,
            node,
            SamplingParams.ofTemperature(sampling.temperature(), 0),
            new SamplingWorkspace(logits.vocabularySize()));
    double entropy = 0;
    for (float x : p) {
      entropy -= x * Math.log(x + 1e-5);
    }
    double threshold = Math.min(TYPICAL_EPSILON, TYPICAL_DELTA * Math.exp(-entropy));
    for (int rank = 0; rank < tree.childCount(node); rank++) {
      int child = tree.child(node, rank);
      float probability = p[tree.token(child)];
      if (probability > threshold) {
        typicalSearch(
            tree,
            logits,
            sampling,
            child,
            length + 1,
            score + Math.log(probability),
            bestEnd,
            bestLength,
            bestScore);
      }
    }
  }

  /** The target's warped distribution after a node, in {@code workspace}. */
  private static float[] distribution(
      NodeLogits logits, int node, SamplingParams sampling, SamplingWorkspace workspace) {
    return Sampler.distribution(
        logits.logits(), logits.offset(node), logits.vocabularySize(), sampling, workspace);
  }

  /** {@code r / sum(r)}, or {@code fallback} when nothing is left (rounding). */
  private static float[] normalise(float[] r, float[] fallback) {
    double sum = 0;
    for (float x : r) {
      sum += x;
    }
    if (sum < RESIDUAL_FLOOR) {
      return fallback;
    }
    for (int v = 0; v < r.length; v++) {
      r[v] = (float) (r[v] / sum);
    }
    return r;
  }

  private static int childWithToken(DraftTree tree, int node, int token) {
    for (int rank = 0; rank < tree.childCount(node); rank++) {
      int child = tree.child(node, rank);
      if (tree.token(child) == token) {
        return child;
      }
    }
    return -1;
  }

  /** The accepted nodes from the root, as they are found (at most the tree's depth + 1). */
  private static final class AcceptedPath {
    private final int[] nodes;
    private int size = 1; // the root, node 0

    AcceptedPath(DraftTree tree) {
      this.nodes = new int[tree.maxDepth() + 1];
    }

    void add(int node) {
      nodes[size++] = node;
    }

    int[] nodes() {
      return size == nodes.length ? nodes : Arrays.copyOf(nodes, size);
    }
  }
}
