package io.specd.cli;

import io.specd.kernels.llama.AncestorMask;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import java.util.ArrayList;
import java.util.List;

/**
 * What a verification of K tokens costs the target, against one decoding step: the time of a
 * forward over K new tokens (a causal chain, logits for all of them) after a fixed prompt, the
 * fastest of several repetitions. What speculation can win on a model and a machine follows from
 * these ratios.
 */
final class ForwardCosts {
  private static final int REPETITIONS = 20;
  private static final long WARM_UP_NANOS = 2_000_000_000L;

  /**
   * One measured size.
   *
   * @param tokens new tokens per forward (K)
   * @param nanos the fastest forward
   */
  record Cost(int tokens, long nanos) {}

  private ForwardCosts() {}

  /**
   * Times forwards of each size after {@code prompt}, warmed up for two seconds in all; nothing is
   * committed, so each forward overwrites the last one's rows.
   *
   * @param sizes the K to measure (1 is added if missing, as the reference)
   */
  static List<Cost> measure(LlamaModel model, int[] prompt, List<Integer> sizes) {
    int longest = sizes.stream().mapToInt(Integer::intValue).max().orElse(1);
    List<Cost> costs = new ArrayList<>();
    try (KvCachePool pool = model.newCachePool(1, prompt.length + longest)) {
      KvCache cache = pool.allocate();
      model.forward(SequenceInput.causal(cache, prompt), ForwardOptions.lastLogits(model.config()));
      cache.commitNext(prompt.length);
      List<Integer> all = new ArrayList<>(sizes);
      if (!all.contains(1)) {
        all.add(0, 1);
      }
      // the JIT compiles the vector kernels only after many calls: warm every size for a while
      for (int k : all) {
        long until = System.nanoTime() + WARM_UP_NANOS / all.size();
        while (System.nanoTime() < until) {
          forward(model, cache, k);
        }
      }
      for (int k : all) {
        long best = Long.MAX_VALUE;
        for (int r = 0; r < REPETITIONS; r++) {
          best = Math.min(best, forward(model, cache, k));
        }
        costs.add(new Cost(k, best));
      }
      cache.release();
    }
    return costs;
  }

  /** One forward of {@code k} chained tokens after the cache's prefix; nanoseconds. */
  private static long forward(LlamaModel model, KvCache cache, int k) {
    int[] tokens = new int[k];
    int[] positions = new int[k];
    for (int i = 0; i < k; i++) {
      tokens[i] = 100 + i;
      positions[i] = cache.length() + i;
    }
    SequenceInput input =
        new SequenceInput(cache, cache.length(), tokens, positions, AncestorMask.causal(k));
    long start = System.nanoTime();
    model.forward(List.of(input), null, ForwardOptions.allLogits(model.config()));
    return System.nanoTime() - start; // nothing is committed: the next forward overwrites the rows
  }
}
