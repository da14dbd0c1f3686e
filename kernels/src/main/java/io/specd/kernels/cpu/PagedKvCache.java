package io.specd.kernels.cpu;

import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.LlamaConfig;
import java.util.Arrays;

/**
 * One sequence's keys and values in pages of {@link PagedKvCachePool#PAGE} positions. Within a
 * page, for each layer, key/value and head, each dimension's positions are contiguous: {@code
 * page[(((layer·2 + kv)·kvHeads + head)·headSize + e)·PAGE + p]}, so attention scores and value
 * sums run as vectors over positions.
 */
final class PagedKvCache extends KvCache {
  static final int PAGE = PagedKvCachePool.PAGE;

  private final PagedKvCachePool pool;
  private final int layers;
  private final int kvHeads;
  private final int headSize;
  private float[][] pages = new float[4][];
  private int pageCount;

  PagedKvCache(PagedKvCachePool pool, LlamaConfig config, int capacity) {
    super(capacity);
    this.pool = pool;
    this.layers = config.layerCount();
    this.kvHeads = config.kvHeadCount();
    this.headSize = config.headSize();
  }

  /** Makes rows {@code [0, rows)} writable, taking pages as needed. */
  void ensureRows(int rows) {
    checkLive();
    while (pageCount * PAGE < rows) {
      if (pageCount == pages.length) {
        pages = Arrays.copyOf(pages, 2 * pages.length);
      }
      float[] page = pool.takePage(); // before counting it: taking may fail (out of memory)
      pages[pageCount++] = page;
    }
  }

  /** The page holding row {@code row}. */
  float[] page(int row) {
    return pages[row / PAGE];
  }

  /** Where dimension 0 of a head's keys ({@code kv} 0) or values (1) of a layer start in a page. */
  int base(int layer, int kv, int head) {
    return ((layer * 2 + kv) * kvHeads + head) * headSize * PAGE;
  }

  /**
   * Writes one position's keys and values of a layer.
   *
   * @param keys {@code [kvHeads · headSize]} from {@code keyOffset}
   * @param values {@code [kvHeads · headSize]} from {@code valueOffset}
   */
  void write(int layer, int row, float[] keys, int keyOffset, float[] values, int valueOffset) {
    float[] page = page(row);
    int p = row % PAGE;
    for (int h = 0; h < kvHeads; h++) {
      int k = base(layer, 0, h) + p;
      int v = base(layer, 1, h) + p;
      int from = h * headSize;
      for (int e = 0; e < headSize; e++) {
        page[k + e * PAGE] = keys[keyOffset + from + e];
        page[v + e * PAGE] = values[valueOffset + from + e];
      }
    }
  }

  @Override
  protected void moveRows(int[] from, int[] to) {
    for (int j = 0; j < from.length; j++) {
      float[] source = page(from[j]);
      float[] target = page(to[j]);
      int s = from[j] % PAGE;
      int t = to[j] % PAGE;
      for (int l = 0; l < layers; l++) {
        for (int kv = 0; kv < 2; kv++) {
          for (int h = 0; h < kvHeads; h++) {
            int base = base(l, kv, h);
            for (int e = 0; e < headSize; e++) {
              target[base + e * PAGE + t] = source[base + e * PAGE + s];
            }
          }
        }
      }
    }
  }

  @Override
  public float[][] snapshot() {
    checkLive();
    int n = length();
    float[][] out = new float[2][layers * kvHeads * n * headSize];
    for (int kv = 0; kv < 2; kv++) {
      for (int l = 0; l < layers; l++) {
        for (int h = 0; h < kvHeads; h++) {
          for (int r = 0; r < n; r++) {
            for (int e = 0; e < headSize; e++) {
              out[kv][((l * kvHeads + h) * n + r) * headSize + e] =
                  page(r)[base(l, kv, h) + e * PAGE + r % PAGE];
            }
          }
        }
      }
    }
    return out;
  }

  @Override
  protected void free() {
    pool.release(pages, pageCount);
    pages = new float[0][];
    pageCount = 0;
  }
}
