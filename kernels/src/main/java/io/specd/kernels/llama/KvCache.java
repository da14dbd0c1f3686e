package io.specd.kernels.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.Arrays;

/**
 * One sequence's key/value cache: a slot of a {@link KvCachePool} and the number of committed
 * positions. A forward writes its new tokens' keys and values at rows {@code [start, start + n)} at
 * or after {@link #length()}; they stay tentative until {@link #commit} keeps the accepted ones.
 * Not thread-safe (owned by the device actor).
 */
public final class KvCache {
  private final KvCachePool pool;
  private final int slot;
  private final NDArray[] keyViews;
  private final NDArray[] valueViews;
  private int length;
  private boolean released;

  KvCache(KvCachePool pool, int slot) {
    this.pool = pool;
    this.slot = slot;
    // Views of this slot's rows, one per layer, so that a single sequence reads and writes its
    // cache with plain slices (one op) instead of advanced indexing over the pool.
    int layers = (int) pool.keys().getShape().get(0);
    this.keyViews = new NDArray[layers];
    this.valueViews = new NDArray[layers];
    NDIndex rows = new NDIndex().addSliceDim(slot, slot + 1);
    for (int l = 0; l < layers; l++) {
      keyViews[l] = pool.keyLayer(l).get(rows);
      valueViews[l] = pool.valueLayer(l).get(rows);
    }
  }

  /** Committed positions. */
  public int length() {
    return length;
  }

  /** Positions this cache can hold. */
  public int capacity() {
    return pool.capacity();
  }

  int slot() {
    checkLive();
    return slot;
  }

  /** Layer {@code layer}'s keys of this slot: {@code [1, kvHeads, headSize, capacity]}. */
  NDArray keyView(int layer) {
    checkLive();
    return keyViews[layer];
  }

  /** Layer {@code layer}'s values of this slot: {@code [1, kvHeads, headSize, capacity]}. */
  NDArray valueView(int layer) {
    checkLive();
    return valueViews[layer];
  }

  KvCachePool pool() {
    return pool;
  }

  /** Commits the next {@code n} tentative rows as they are (a prefill or a causal chain). */
  public void commitNext(int n) {
    int[] rows = new int[n];
    Arrays.setAll(rows, i -> i);
    commit(rows);
  }

  /**
   * Commits tentative rows: row {@code length + keep[j]} moves to {@code length + j} in every
   * layer, and the length grows by {@code keep.length}. A chain ({@code keep = 0..k-1}) costs no
   * device op; a tree path costs one gather and one scatter for keys and for values.
   *
   * @param keep indices, relative to {@link #length()}, of the rows to keep, increasing
   */
  public void commit(int... keep) {
    checkLive();
    if (length + keep.length > capacity()) {
      throw new IllegalArgumentException(
          "committing " + keep.length + " rows would exceed the capacity " + capacity());
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
      long[] source = new long[moves];
      long[] target = new long[moves];
      for (int j = 0; j < moves; j++) {
        source[j] = length + keep[firstMove + j];
        target[j] = length + firstMove + j;
      }
      try (NDManager step = pool.keys().getManager().newSubManager()) {
        NDArray from = step.create(source);
        NDArray to = step.create(target);
        move(pool.keys(), new NDIndex(":, {}, :, :, {}", slot, from), to, step);
        move(pool.values(), new NDIndex(":, {}, :, :, {}", slot, from), to, step);
      }
    }
    length += keep.length;
  }

  private void move(NDArray cache, NDIndex from, NDArray to, NDManager step) {
    NDArray rows = cache.get(from);
    rows.attach(step);
    cache.set(new NDIndex(":, {}, :, :, {}", slot, to), rows);
  }

  /**
   * Copies the committed keys and values to the host (for tests and diagnostics), each {@code
   * [layers, kvHeads, headSize, length]}.
   */
  float[][] snapshot() {
    checkLive();
    try (NDManager step = pool.keys().getManager().newSubManager()) {
      NDArray k = pool.keys().get(new NDIndex(":, {}, :, :, :" + length, slot));
      NDArray v = pool.values().get(new NDIndex(":, {}, :, :, :" + length, slot));
      k.attach(step);
      v.attach(step);
      return new float[][] {k.toFloatArray(), v.toFloatArray()};
    }
  }

  /** Forgets every position from {@code newLength} on (no device op). */
  public void truncate(int newLength) {
    checkLive();
    if (newLength < 0 || newLength > length) {
      throw new IllegalArgumentException(
          "cannot truncate a cache of length " + length + " to " + newLength);
    }
    length = newLength;
  }

  /** Returns the slot to the pool; the cache cannot be used afterwards. Idempotent. */
  public void release() {
    if (!released) {
      released = true;
      for (int l = 0; l < keyViews.length; l++) {
        keyViews[l].close();
        valueViews[l].close();
      }
      pool.release(slot);
    }
  }

  public boolean isReleased() {
    return released;
  }

  private void checkLive() {
    if (released) {
      throw new IllegalStateException("KV cache slot " + slot + " was released");
    }
  }
}
