package io.specd.kernels.tokenizer;

import java.util.Arrays;

/** A binary min-heap of longs (no boxing). Not thread-safe. */
final class LongHeap {
  private long[] values = new long[64];
  private int size;

  boolean isEmpty() {
    return size == 0;
  }

  void add(long value) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    int child = size++;
    while (child > 0) {
      int parent = (child - 1) >>> 1;
      if (values[parent] <= value) {
        break;
      }
      values[child] = values[parent];
      child = parent;
    }
    values[child] = value;
  }

  /** Removes and returns the smallest value; the heap must not be empty. */
  long poll() {
    long smallest = values[0];
    long last = values[--size];
    int parent = 0;
    while (true) {
      int child = 2 * parent + 1;
      if (child >= size) {
        break;
      }
      if (child + 1 < size && values[child + 1] < values[child]) {
        child++;
      }
      if (values[child] >= last) {
        break;
      }
      values[parent] = values[child];
      parent = child;
    }
    values[parent] = last;
    return smallest;
  }
}
