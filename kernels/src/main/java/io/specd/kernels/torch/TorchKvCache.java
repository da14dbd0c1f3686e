package io.specd.kernels.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.specd.kernels.llama.KvCache;

/** One sequence's cache: a slot of a {@link TorchKvCachePool}. */
final class TorchKvCache extends KvCache {
  private final TorchKvCachePool pool;
  private final int slot;
  private final NDArray[] keyViews;
  private final NDArray[] valueViews;

  TorchKvCache(TorchKvCachePool pool, int slot) {
    super(pool.capacity());
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

  TorchKvCachePool pool() {
    return pool;
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

  @Override
  protected void moveRows(int[] from, int[] to) {
    long[] source = new long[from.length];
    long[] target = new long[to.length];
    for (int j = 0; j < from.length; j++) {
      source[j] = from[j];
      target[j] = to[j];
    }
    try (NDManager step = pool.keys().getManager().newSubManager()) {
      NDArray fromRows = step.create(source);
      NDArray toRows = step.create(target);
      for (NDArray cache : new NDArray[] {pool.keys(), pool.values()}) {
        NDArray rows = cache.get(new NDIndex(":, {}, :, :, {}", slot, fromRows));
        rows.attach(step);
        cache.set(new NDIndex(":, {}, :, :, {}", slot, toRows), rows);
      }
    }
  }

  @Override
  public float[][] snapshot() {
    checkLive();
    try (NDManager step = pool.keys().getManager().newSubManager()) {
      float[][] out = new float[2][];
      NDArray[] caches = {pool.keys(), pool.values()};
      for (int i = 0; i < 2; i++) {
        // [layers, kvHeads, headSize, length] -> [layers, kvHeads, length, headSize]
        NDArray rows = caches[i].get(new NDIndex(":, {}, :, :, :" + length(), slot));
        rows.attach(step);
        out[i] = rows.transpose(0, 1, 3, 2).toFloatArray();
      }
      return out;
    }
  }

  @Override
  protected void free() {
    for (int l = 0; l < keyViews.length; l++) {
      keyViews[l].close();
      valueViews[l].close();
    }
    pool.release(slot);
  }
}
