package io.specd.kernels.llama;

/**
 * One sequence's key/value cache: storage owned by a backend's {@link KvCachePool}, and the number
 * of committed positions. A forward writes its new tokens' keys and values at rows {@code [start,
 * start + n)} at or after {@link #length()}; they stay tentative until {@link #commit} keeps the
 * accepted ones. Not thread-safe (owned by the device actor).
 */
public abstract class KvCache {
  private final int capacity;
  private int length;
  private boolean released;

  protected KvCache(int capacity) {
    this.capacity = capacity;
  }

  /** Committed positions. */
  public final int length() {
    return length;
  }

  /** Positions this cache can hold. */
  public final int capacity() {
    return capacity;
  }

  /** Commits the next {@code n} tentative rows as they are (a prefill or a causal chain). */
  public final void commitNext(int n) {
    checkLive();
    if (length + n > capacity) {
      throw new IllegalArgumentException(
          "committing " + n + " rows would exceed the capacity " + capacity);
    }
    length += n;
  }

  /**
   * Commits tentative rows: row {@code length + keep[j]} moves to {@code length + j} in every
   * layer, and the length grows by {@code keep.length}. A chain ({@code keep = 0..k-1}) moves
   * nothing.
   *
   * @param keep indices, relative to {@link #length()}, of the rows to keep, increasing
   */
  public final void commit(int... keep) {
    checkLive();
    if (length + keep.length > capacity) {
      throw new IllegalArgumentException(
          "committing " + keep.length + " rows would exceed the capacity " + capacity);
    }
    for (int j = 0; j < keep.length; j++) {
      if (keep[j] < 0 || (j > 0 && keep[j] <= keep[j - 1])) {
        throw new IllegalArgumentException("kept rows must be >= 0 and increasing");
      }
    }
    int firstMove = 0;
    while (firstMove < keep.length && keep[firstMove] == firstMove) {
      firstMove++;
    }
    if (firstMove < keep.length) {
      int moves = keep.length - firstMove;
      int[] from = new int[moves];
      int[] to = new int[moves];
      for (int j = 0; j < moves; j++) {
        from[j] = length + keep[firstMove + j];
        to[j] = length + firstMove + j;
      }
      moveRows(from, to);
    }
    length += keep.length;
  }

  /** Forgets every position from {@code newLength} on (no data moves). */
  public final void truncate(int newLength) {
    checkLive();
    if (newLength < 0 || newLength > length) {
      throw new IllegalArgumentException(
          "cannot truncate a cache of length " + length + " to " + newLength);
    }
    length = newLength;
  }

  /** Returns the storage to the pool; the cache cannot be used afterwards. Idempotent. */
  public final void release() {
    if (!released) {
      released = true;
      free();
    }
  }

  public final boolean isReleased() {
    return released;
  }

  /**
   * Copies the committed keys and values to the host (for tests and diagnostics), each {@code
   * [layers, kvHeads, length, headSize]}.
   */
  public abstract float[][] snapshot();

  /**
   * Copies rows {@code from[j]} to {@code to[j]} in every layer, in order (each {@code to[j] <
   * from[j]}, both increasing, so a row is read before it is overwritten).
   */
  protected abstract void moveRows(int[] from, int[] to);

  /** Returns the storage to the pool. */
  protected abstract void free();

  /** Throws if the cache was released. */
  protected final void checkLive() {
    if (released) {
      throw new IllegalStateException("the KV cache was released");
    }
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[length=" + length + ", capacity=" + capacity + "]";
  }
}
