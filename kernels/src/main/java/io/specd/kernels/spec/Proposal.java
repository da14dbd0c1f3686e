package io.specd.kernels.spec;

import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.SequenceInput;

/**
 * A draft tree and how the target verifies it: normally a full forward over the tree's tokens; for
 * a self-speculative drafter (Kangaroo) a partial forward from {@code fromLayer} over hidden states
 * the drafter already computed with the target's own shallow layers.
 *
 * @param tree the draft tree
 * @param input the verification forward's sequence (tokens, positions, tree mask)
 * @param fromLayer the first target layer to run (0 for a full forward)
 * @param inputHidden {@code [n, dim]}: the residual stream entering {@code fromLayer}, when it is
 *     not 0, else null
 */
public record Proposal(DraftTree tree, SequenceInput input, int fromLayer, float[] inputHidden) {

  /** A full target forward over the tree's tokens after the cache's committed prefix. */
  public static Proposal fullForward(DraftTree tree, KvCache cache) {
    int prefix = cache.length();
    return new Proposal(
        tree,
        new SequenceInput(cache, prefix, tree.tokens(), tree.positions(prefix), tree.mask()),
        0,
        null);
  }
}
