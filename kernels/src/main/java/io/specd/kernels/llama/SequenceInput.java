package io.specd.kernels.llama;

import java.util.Arrays;

/**
 * One sequence's part of a forward pass.
 *
 * @param cache the sequence's KV cache, whose rows {@code [0, cache.length())} are the committed
 *     prefix; or null for a stateless forward over a whole sequence (training), which attends only
 *     among its own tokens
 * @param start the cache row of the first new token ({@code cache.length()} plus any tentative rows
 *     written earlier in the step)
 * @param tokens the new token ids, or {@code null} when the forward starts from hidden states
 * @param positions the RoPE position of each new token (its depth in a tree, not its row)
 * @param mask what each new token sees in the window {@code [cache.length(), start + n)}
 */
public record SequenceInput(
    KvCache cache, int start, int[] tokens, int[] positions, AncestorMask mask) {

  public SequenceInput {
    int n = positions.length;
    if (n == 0) {
      throw new IllegalArgumentException("a forward needs at least one new token");
    }
    if (tokens != null && tokens.length != n) {
      throw new IllegalArgumentException(tokens.length + " tokens but " + n + " positions");
    }
    int committed = cache == null ? 0 : cache.length();
    int capacity = cache == null ? n : cache.capacity();
    if (mask.tokenCount() != n || mask.window() != start - committed + n) {
      throw new IllegalArgumentException(
          "mask is "
              + mask.tokenCount()
              + "x"
              + mask.window()
              + " but the step has "
              + n
              + " tokens and a window of "
              + (start - committed + n));
    }
    if (start < committed || start + n > capacity) {
      throw new IllegalArgumentException(
          "rows ["
              + start
              + ", "
              + (start + n)
              + ") do not fit a cache of length "
              + cache.length()
              + " and capacity "
              + cache.capacity());
    }
    tokens = tokens == null ? null : tokens.clone();
    positions = positions.clone();
  }

  /** A whole sequence without a KV cache (training): causal attention among its tokens. */
  public static SequenceInput stateless(int[] tokens, int length) {
    int[] positions = new int[length];
    for (int i = 0; i < length; i++) {
      positions[i] = i;
    }
    return new SequenceInput(null, 0, tokens, positions, AncestorMask.causal(length));
  }

  /** Committed rows before the new tokens (0 without a cache). */
  public int committed() {
    return cache == null ? 0 : cache.length();
  }

  /** Prefill or plain decoding: {@code tokens} follow the committed prefix causally. */
  public static SequenceInput causal(KvCache cache, int[] tokens) {
    int[] positions = new int[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      positions[i] = cache.length() + i;
    }
    return new SequenceInput(
        cache, cache.length(), tokens, positions, AncestorMask.causal(tokens.length));
  }

  /** New tokens. */
  public int size() {
    return positions.length;
  }

  @Override
  public int[] tokens() {
    return tokens == null ? null : tokens.clone();
  }

  @Override
  public int[] positions() {
    return positions.clone();
  }

  /** The token id of new token {@code i}. */
  public int token(int i) {
    return tokens[i];
  }

  /** The RoPE position of new token {@code i}. */
  public int position(int i) {
    return positions[i];
  }

  /** Whether the forward starts from token embeddings (else from hidden states). */
  public boolean hasTokens() {
    return tokens != null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SequenceInput s
        && s.cache == cache
        && s.start == start
        && Arrays.equals(s.tokens, tokens)
        && Arrays.equals(s.positions, positions)
        && s.mask == mask;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(positions) * 31 + start;
  }

  @Override
  public String toString() {
    return "SequenceInput[start=" + start + ", tokens=" + Arrays.toString(tokens) + "]";
  }
}
