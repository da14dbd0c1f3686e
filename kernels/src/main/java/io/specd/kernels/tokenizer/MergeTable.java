package io.specd.kernels.tokenizer;

import java.util.Arrays;

/**
 * The merges of a byte-level BPE vocabulary: for a pair of adjacent symbols, the rank of their
 * merge (lower merges first) and the symbol it makes. Symbols are small integers (see {@link
 * ByteLevelBpeTokenizer}). An open-addressing hash table of longs, so a lookup allocates nothing.
 * Immutable once built; thread-safe for reading.
 */
final class MergeTable {
  private static final long EMPTY = -1L;

  private final long[] keys;
  private final long[] values;
  private final int mask;
  private final int shift;

  /**
   * @param capacity the number of merges it will hold
   */
  MergeTable(int capacity) {
    int slots = Integer.highestOneBit(Math.max(4, capacity * 2 - 1)) << 1;
    this.keys = new long[slots];
    this.values = new long[slots];
    this.mask = slots - 1;
    this.shift = Long.numberOfLeadingZeros(slots - 1);
    Arrays.fill(keys, EMPTY);
  }

  /** Adds a merge; a pair already present keeps its first (lowest) rank, as llama.cpp does. */
  void put(int left, int right, int rank, int merged) {
    long key = key(left, right);
    int slot = slot(key);
    while (keys[slot] != EMPTY) {
      if (keys[slot] == key) {
        return;
      }
      slot = (slot + 1) & mask;
    }
    keys[slot] = key;
    values[slot] = ((long) rank << 32) | (merged & 0xffffffffL);
  }

  /**
   * The merge of a pair: its rank in the upper 32 bits and the merged symbol in the lower, or -1 if
   * the pair does not merge.
   */
  long get(int left, int right) {
    long key = key(left, right);
    for (int slot = slot(key); keys[slot] != EMPTY; slot = (slot + 1) & mask) {
      if (keys[slot] == key) {
        return values[slot];
      }
    }
    return -1;
  }

  private static long key(int left, int right) {
    return ((long) left << 32) | (right & 0xffffffffL);
  }

  private int slot(long key) {
    // Fibonacci hashing: the top bits of the product
    return (int) ((key * 0x9E3779B97F4A7C15L) >>> shift);
  }
}
