package io.specd.kernels.heads.lookup;

/**
 * One request's text (prompt and committed tokens) with every n-gram of it indexed by where it
 * ends, so that the latest earlier occurrences of the text's last tokens are found without a scan:
 * per order, a hash table of chains through the positions (each position links to the previous one
 * whose n-gram fell in the same bucket; a match is confirmed token by token). Sized once for the
 * request's capacity: appending allocates nothing.
 */
final class ContextIndex {
  /** The longest n-gram looked up. */
  static final int MAX_ORDER = 4;

  private final int[] tokens; // [capacity] the text
  private int length;
  private final int[][] latest; // [order - 1][buckets] 1 + the latest end position in the bucket
  private final int[][] previous; // [order - 1][capacity] 1 + the previous end in its bucket
  private final int mask;

  /**
   * @param capacity the most tokens the text will hold
   */
  ContextIndex(int capacity) {
    this.tokens = new int[capacity];
    int buckets = Integer.highestOneBit(Math.max(2, 2 * capacity - 1));
    this.mask = buckets - 1;
    this.latest = new int[MAX_ORDER][buckets];
    this.previous = new int[MAX_ORDER][capacity];
  }

  int length() {
    return length;
  }

  /**
   * Appends a token and indexes the n-grams ending at it.
   *
   * @throws IllegalStateException past the capacity
   */
  void append(int token) {
    if (length == tokens.length) {
      throw new IllegalStateException("the text is full at " + length + " tokens");
    }
    int end = length;
    tokens[length++] = token;
    int hash = 0;
    for (int order = 1; order <= Math.min(MAX_ORDER, length); order++) {
      hash = mix(hash, tokens[end - order + 1]);
      int bucket = hash & mask;
      previous[order - 1][end] = latest[order - 1][bucket];
      latest[order - 1][bucket] = end + 1;
    }
  }

  /**
   * The latest occurrence of the n-gram of {@code order} tokens that ends the text followed by
   * {@code next}: where that n-gram last ended in the text.
   *
   * @return the end position, or -1 when there is none (or the text is shorter than the n-gram)
   */
  int latest(int order, int next) {
    if (order > length + 1) {
      return -1;
    }
    int hash = mix(0, next);
    for (int i = 1; i < order; i++) {
      hash = mix(hash, tokens[length - i]);
    }
    return walk(latest[order - 1][hash & mask], order, next);
  }

  /**
   * The occurrence of the same n-gram before the one ending at {@code end} ({@link #latest} or an
   * earlier result of this method), or -1.
   */
  int earlier(int order, int next, int end) {
    return walk(previous[order - 1][end], order, next);
  }

  /** The first position along a bucket's chain where the n-gram really ends, or -1. */
  private int walk(int link, int order, int next) {
    while (link > 0) {
      int end = link - 1;
      if (matches(end, order, next)) {
        return end;
      }
      link = previous[order - 1][end];
    }
    return -1;
  }

  /**
   * The {@code i}-th token (from 0) after an occurrence ending at {@code end} of the text's last
   * tokens followed by {@code next}: the text after it, repeated with its period once it reaches
   * the text's end (an occurrence {@code k} tokens back says the text repeats every {@code k}).
   */
  int following(int end, int next, int i) {
    int period = length - end;
    int at = end + 1 + i % period;
    return at == length ? next : tokens[at];
  }

  private boolean matches(int end, int order, int next) {
    if (end < order - 1 || tokens[end] != next) {
      return false;
    }
    for (int i = 1; i < order; i++) {
      if (tokens[end - i] != tokens[length - i]) {
        return false;
      }
    }
    return true;
  }

  /** A hash of an n-gram read from its end backwards: the same for the text and a lookup. */
  private static int mix(int hash, int token) {
    return (hash * 0x9E3779B1) ^ (token + 0x7F4A7C15) * 0x85EBCA6B;
  }
}
