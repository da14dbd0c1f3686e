package io.specd.kernels.llama;

/**
 * Key/value memory for a bounded number of sequences ("slots") of a bounded length, owned by a
 * backend. Not thread-safe: the owner of the model (the device actor) is the only user.
 */
public interface KvCachePool extends AutoCloseable {

  /**
   * Takes a cache for a new sequence.
   *
   * @throws IllegalStateException if every slot is in use
   */
  KvCache allocate();

  /** How many sequences can hold a cache at once. */
  int slots();

  /** Slots not in use. */
  int freeSlots();

  /** Positions one sequence can hold. */
  int capacity();

  /** Frees the memory; caches from this pool cannot be used afterwards. */
  @Override
  void close();

  /** Bytes of key/value memory one full slot takes (float32), to size a pool from a budget. */
  static long bytesPerSlot(LlamaConfig c, int capacity) {
    return 2L * c.layerCount() * c.kvHeadCount() * c.headSize() * capacity * Float.BYTES;
  }
}
