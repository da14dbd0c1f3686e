package io.specd.kernels.cpu;

import io.specd.kernels.llama.SequenceInput;
import java.util.List;

/**
 * A layer's attention over a batch: every (new token, query head) pair is one work item, split
 * across the model's threads, each thread attending with an {@link Attention} of its own (its score
 * scratch). A batch of sessions or a long context then uses every core where the products already
 * do. Allocates nothing once its row arrays and the threads' scratches have grown.
 */
final class AttentionJob implements Parallel.RangeTask {
  private final Parallel parallel;
  private final Attention[] attentions; // one per thread of the pool
  private final int heads;
  private final int queryDim;
  private int[] rowSequence = new int[0]; // [N]: the sequence of each new token
  private int[] rowToken = new int[0]; // [N]: its index among its sequence's new tokens
  private PagedKvCache[] caches = new PagedKvCache[0]; // [batch]
  private List<SequenceInput> sequences;
  private int layer;
  private float[] q;
  private int[] limits;
  private float[] out;

  AttentionJob(Parallel parallel, int heads, int kvHeads, int headSize) {
    this.parallel = parallel;
    this.heads = heads;
    this.queryDim = heads * headSize;
    this.attentions = new Attention[parallel.threads()];
    for (int t = 0; t < attentions.length; t++) {
      attentions[t] = new Attention(heads, kvHeads, headSize);
    }
  }

  /** Records the batch's rows, once per forward; {@link #cache} gives each sequence's cache. */
  void layout(List<SequenceInput> sequences, int rows) {
    this.sequences = sequences;
    if (rowSequence.length < rows) {
      rowSequence = new int[rows];
      rowToken = new int[rows];
    }
    if (caches.length < sequences.size()) {
      caches = new PagedKvCache[sequences.size()];
    }
    int row = 0;
    for (int b = 0; b < sequences.size(); b++) { // indexed: an iterator might not be scalarized
      for (int i = 0; i < sequences.get(b).size(); i++, row++) {
        rowSequence[row] = b;
        rowToken[row] = i;
      }
    }
  }

  /** Sequence {@code b}'s cache in the batch laid out last. */
  void cache(int b, PagedKvCache cache) {
    caches[b] = cache;
  }

  /**
   * {@code out[row] = Attention(q[row])} for every new token of the batch laid out last, over its
   * own sequence's cache in {@code layer}.
   *
   * @param q {@code [N, H·E]} rotated, scaled queries
   * @param limits {@code [N]} one past the last cache row each token sees
   * @param out {@code [N, H·E]}, overwritten
   */
  void attend(int layer, float[] q, int[] limits, float[] out, int rows) {
    this.layer = layer;
    this.q = q;
    this.limits = limits;
    this.out = out;
    parallel.run(rows * heads, 1, this);
    this.q = null;
    this.out = null;
  }

  @Override
  public void run(int from, int to) {
    Attention attention = attentions[parallel.threadIndex()];
    for (int item = from; item < to; item++) {
      int row = item / heads;
      int b = rowSequence[row];
      SequenceInput s = sequences.get(b);
      attention.attendHead(
          caches[b],
          layer,
          q,
          row * queryDim,
          s.committed(),
          limits[row],
          s.mask(),
          rowToken[row],
          out,
          row * queryDim,
          item - row * heads);
    }
  }
}
