package io.specd.kernels.cpu;

import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaConfig;
import java.util.ArrayDeque;

/**
 * Key/value memory in pages of {@link #PAGE} positions, handed to caches as their sequences grow (a
 * pool holds no more than its live sequences need, and never more than {@code slots × capacity}).
 * Pages freed by a released cache are reused, so a serving process stops allocating once it has
 * seen its busiest moment. A page holds every layer's keys and values of its positions,
 * position-contiguous per head and dimension (see {@link PagedKvCache}).
 */
final class PagedKvCachePool implements KvCachePool {
  /** Positions per page. */
  static final int PAGE = 64;

  private final LlamaConfig config;
  private final int slots;
  private final int capacity;
  private final int pageFloats;
  private final ArrayDeque<float[]> freePages = new ArrayDeque<>();
  private int live;
  private boolean closed;

  PagedKvCachePool(LlamaConfig config, int slots, int capacity) {
    this.config = config;
    this.slots = slots;
    this.capacity = capacity;
    this.pageFloats = 2 * config.layerCount() * config.kvDim() * PAGE;
  }

  @Override
  public KvCache allocate() {
    if (closed) {
      throw new IllegalStateException("the KV cache pool was closed");
    }
    if (live == slots) {
      throw new IllegalStateException("all " + slots + " KV cache slots are in use");
    }
    live++;
    return new PagedKvCache(this, config, capacity);
  }

  /** A page for a growing cache: a freed one, or a new one. */
  float[] takePage() {
    float[] page = freePages.poll();
    return page != null ? page : new float[pageFloats];
  }

  /** Returns a released cache's pages. */
  void release(float[][] pages, int count) {
    for (int i = 0; i < count; i++) {
      freePages.add(pages[i]);
    }
    live--;
  }

  @Override
  public int slots() {
    return slots;
  }

  @Override
  public int freeSlots() {
    return slots - live;
  }

  @Override
  public int capacity() {
    return capacity;
  }

  @Override
  public void close() {
    closed = true;
    freePages.clear();
  }
}
