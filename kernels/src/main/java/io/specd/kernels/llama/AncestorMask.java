package io.specd.kernels.llama;

import java.util.Arrays;

/**
 * Which cache rows each new token may attend to, beyond the committed prefix (which every new token
 * sees). The window is the tentative rows already written in this step (if any) followed by the
 * {@code n} new tokens themselves: prefill is the causal case, a token tree the ancestor relation.
 * Immutable.
 */
public final class AncestorMask {
  private final int tokenCount;
  private final int window;
  private final boolean[] visible;

  private AncestorMask(int tokenCount, int window, boolean[] visible) {
    this.tokenCount = tokenCount;
    this.window = window;
    this.visible = visible;
  }

  /** Each of {@code n} tokens sees itself and the tokens before it. */
  public static AncestorMask causal(int n) {
    boolean[] visible = new boolean[n * n];
    for (int i = 0; i < n; i++) {
      Arrays.fill(visible, i * n, i * n + i + 1, true);
    }
    return new AncestorMask(n, n, visible);
  }

  /**
   * A token tree: token {@code i} sees itself and its ancestors.
   *
   * @param parents parent index of each token ({@code -1} for a root, which hangs off the committed
   *     prefix); every parent precedes its child
   */
  public static AncestorMask tree(int[] parents) {
    int n = parents.length;
    boolean[] visible = new boolean[n * n];
    for (int i = 0; i < n; i++) {
      int parent = parents[i];
      if (parent >= i || parent < -1) {
        throw new IllegalArgumentException(
            "token " + i + " has parent " + parent + "; parents must precede their children");
      }
      if (parent >= 0) {
        System.arraycopy(visible, parent * n, visible, i * n, n);
      }
      visible[i * n + i] = true;
    }
    return new AncestorMask(n, n, visible);
  }

  /**
   * {@code n} tokens that follow {@code tentative} rows written earlier in the same step (a chain
   * drafted one token at a time): every token sees all tentative rows and, causally, the new ones.
   */
  public static AncestorMask chainAfter(int tentative, int n) {
    int window = tentative + n;
    boolean[] visible = new boolean[n * window];
    for (int i = 0; i < n; i++) {
      Arrays.fill(visible, i * window, i * window + tentative + i + 1, true);
    }
    return new AncestorMask(n, window, visible);
  }

  /**
   * An explicit mask: {@code visible[i][w]} says whether new token i sees window row w.
   *
   * @param visible {@code [tokens][window]}, every row of the same length
   */
  public static AncestorMask of(boolean[][] visible) {
    int n = visible.length;
    int window = visible[0].length;
    boolean[] flat = new boolean[n * window];
    for (int i = 0; i < n; i++) {
      if (visible[i].length != window) {
        throw new IllegalArgumentException("mask rows differ in length");
      }
      System.arraycopy(visible[i], 0, flat, i * window, window);
    }
    return new AncestorMask(n, window, flat);
  }

  /** New tokens. */
  public int tokenCount() {
    return tokenCount;
  }

  /** Tentative rows plus new tokens. */
  public int window() {
    return window;
  }

  /** Whether new token {@code token} sees window row {@code row}. */
  public boolean visible(int token, int row) {
    return visible[token * window + row];
  }

  /** True when every new token sees the whole window (no mask needed). */
  public boolean seesEverything() {
    for (boolean v : visible) {
      if (!v) {
        return false;
      }
    }
    return true;
  }
}
