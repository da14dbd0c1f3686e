package io.specd.kernels.spec;

/**
 * The outcome of verifying a draft tree.
 *
 * @param path the accepted nodes from the root: {@code [0, a1, …]}; the KV rows to keep
 * @param nextToken the token the target chose after the path (bonus when the path ends at a leaf or
 *     every child was a miss at T = 0; recovered from the residual after a rejection at T &gt; 0)
 */
public record Acceptance(int[] path, int nextToken) {
  public Acceptance {
    path = path.clone();
  }

  @Override
  public int[] path() {
    return path.clone();
  }

  /** Draft tokens accepted (the root and the next token excluded). */
  public int acceptedDrafts() {
    return path.length - 1;
  }

  /** The last accepted node. */
  public int lastNode() {
    return path[path.length - 1];
  }
}
