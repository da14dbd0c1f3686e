package io.specd.kernels.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Key/value memory for a fixed number of sequences ("slots"), preallocated as two tensors so that a
 * batch of sequences reads and writes its caches with one op per layer:
 *
 * <ul>
 *   <li>keys {@code [layers, slots + 1, kvHeads, headSize, capacity]} (transposed, ready for {@code
 *       q · Kᵀ})
 *   <li>values {@code [layers, slots + 1, kvHeads, headSize, capacity]} (transposed too: the
 *       forward computes {@code Vᵀ · Pᵀ}, much faster than {@code P · V} for small heads)
 * </ul>
 *
 * The extra last slot is scratch: padding rows of a ragged batch write there. Not thread-safe: the
 * owner of the model (the device actor) is the only user.
 */
public final class KvCachePool implements AutoCloseable {
  private final NDManager manager;
  private final NDArray keys;
  private final NDArray values;
  private final NDArray[] keyLayers;
  private final NDArray[] valueLayers;
  private final int slots;
  private final int capacity;
  private final Deque<Integer> free = new ArrayDeque<>();

  /**
   * @param model the model whose layers the caches serve
   * @param slots how many sequences can hold a cache at once
   * @param capacity positions per sequence (at most the model's context length)
   */
  public KvCachePool(LlamaModel model, int slots, int capacity) {
    LlamaConfig c = model.config();
    if (slots < 1) {
      throw new IllegalArgumentException("a KV cache pool needs at least one slot, got " + slots);
    }
    if (capacity < 1 || capacity > c.contextLength()) {
      throw new IllegalArgumentException(
          "KV capacity must be in [1, " + c.contextLength() + "], got " + capacity);
    }
    this.slots = slots;
    this.capacity = capacity;
    this.manager = model.manager().newSubManager();
    this.keys =
        manager.zeros(
            new Shape(c.layerCount(), slots + 1, c.kvHeadCount(), c.headSize(), capacity));
    this.values =
        manager.zeros(
            new Shape(c.layerCount(), slots + 1, c.kvHeadCount(), c.headSize(), capacity));
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

  /** Bytes of device memory one slot takes for a model (to size a pool from a memory budget). */
  public static long bytesPerSlot(LlamaConfig c, int capacity) {
    return 2L * c.layerCount() * c.kvHeadCount() * c.headSize() * capacity * Float.BYTES;
  }

  /**
   * Takes a free slot for a new sequence.
   *
   * @throws IllegalStateException if every slot is in use
   */
  public KvCache allocate() {
    Integer slot = free.poll();
    if (slot == null) {
      throw new IllegalStateException("all " + slots + " KV cache slots are in use");
    }
    return new KvCache(this, slot);
  }

  void release(int slot) {
    free.add(slot);
  }

  public int slots() {
    return slots;
  }

  public int freeSlots() {
    return free.size();
  }

  /** Positions one sequence can hold. */
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
