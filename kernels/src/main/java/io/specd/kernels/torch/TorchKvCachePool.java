package io.specd.kernels.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaConfig;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Key/value memory for a fixed number of sequences ("slots") on a DJL device, preallocated as two
 * tensors so that a batch of sequences reads and writes its caches with one op per layer:
 *
 * <ul>
 *   <li>keys {@code [layers, slots + 1, kvHeads, headSize, capacity]} (transposed, ready for {@code
 *       q · Kᵀ})
 *   <li>values {@code [layers, slots + 1, kvHeads, headSize, capacity]} (transposed too: the
 *       forward computes {@code Vᵀ · Pᵀ}, much faster than {@code P · V} for small heads)
 * </ul>
 *
 * The extra last slot is scratch: padding rows of a ragged batch write there.
 */
final class TorchKvCachePool implements KvCachePool {
  private final NDManager manager;
  private final NDArray keys;
  private final NDArray values;
  private final NDArray[] keyLayers;
  private final NDArray[] valueLayers;
  private final int slots;
  private final int capacity;
  private final Deque<Integer> free = new ArrayDeque<>();

  TorchKvCachePool(LlamaConfig c, NDManager parent, int slots, int capacity) {
    this.slots = slots;
    this.capacity = capacity;
    this.manager = parent.newSubManager();
    Shape shape = new Shape(c.layerCount(), slots + 1, c.kvHeadCount(), c.headSize(), capacity);
    this.keys = manager.zeros(shape);
    this.values = manager.zeros(shape);
    this.keyLayers = new NDArray[c.layerCount()];
    this.valueLayers = new NDArray[c.layerCount()];
    for (int l = 0; l < c.layerCount(); l++) {
      keyLayers[l] = keys.get(l);
      valueLayers[l] = values.get(l);
    }
    for (int s = 0; s < slots; s++) {
      free.add(s);
    }
  }

  @Override
  public KvCache allocate() {
    Integer slot = free.poll();
    if (slot == null) {
      throw new IllegalStateException("all " + slots + " KV cache slots are in use");
    }
    return new TorchKvCache(this, slot);
  }

  void release(int slot) {
    free.add(slot);
  }

  @Override
  public int slots() {
    return slots;
  }

  @Override
  public int freeSlots() {
    return free.size();
  }

  @Override
  public int capacity() {
    return capacity;
  }

  /** The scratch slot that padding rows write to. */
  int scratchSlot() {
    return slots;
  }

  /** Layer {@code layer}'s keys: {@code [slots + 1, kvHeads, headSize, capacity]}. */
  NDArray keyLayer(int layer) {
    return keyLayers[layer];
  }

  /** Layer {@code layer}'s values: {@code [slots + 1, kvHeads, headSize, capacity]}. */
  NDArray valueLayer(int layer) {
    return valueLayers[layer];
  }

  /** {@code [layers, slots + 1, kvHeads, headSize, capacity]} */
  NDArray keys() {
    return keys;
  }

  /** {@code [layers, slots + 1, kvHeads, headSize, capacity]} */
  NDArray values() {
    return values;
  }

  @Override
  public void close() {
    manager.close();
  }
}
