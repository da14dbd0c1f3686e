package io.specd.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.ThreadMXBean;
import io.specd.kernels.TestModels;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.sample.Sampler;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The {@code java} backend's decode step allocates nothing once its buffers and cache pages fit:
 * over 5,000 decoding forwards the heap bytes the forward allocates stay flat (less than a byte per
 * step in all) and no garbage collection runs.
 */
class JavaAllocationTest {
  private static final int STEPS = 5_000;
  private static final int WINDOW = 256;
  private static final int WARM_UP = 20_000;

  @Test
  void decodingShouldAllocateNothingPerToken() {
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    try (LlamaModel model = TestModels.loadStories260K("java");
        KvCachePool pool = model.newCachePool(1, WINDOW)) {
      KvCache cache = pool.allocate();
      ForwardOptions options = ForwardOptions.lastLogits(model.config());
      int vocab = model.config().vocabularySize();
      int[] token = {model.config().bosId()};
      // warming up takes the cache's pages, sizes the buffers and lets the JIT compile the
      // vector kernels (interpreted or C1-compiled Vector API code allocates its vectors)
      for (int step = 0; step < WARM_UP; step++) {
        if (cache.length() == WINDOW - 1) {
          cache.truncate(0);
        }
        token[0] = decode(model, cache, token[0], options, vocab);
      }
      cache.truncate(0);
      System.gc(); // start from an empty young generation: only the loop's own objects follow
      long gcBefore = collections();
      long allocated = 0;
      for (int step = 0; step < STEPS; step++) {
        if (cache.length() == WINDOW - 1) {
          cache.truncate(0); // keep decoding in a bounded window
        }
        List<SequenceInput> input = List.of(SequenceInput.causal(cache, token));
        long before = threads.getThreadAllocatedBytes(thread);
        ForwardResult result = model.forward(input, null, options);
        allocated += threads.getThreadAllocatedBytes(thread) - before;
        cache.commitNext(1);
        token[0] = Sampler.argmax(result.logits(), 0, vocab);
      }
      // zero per step; a one-off recompilation by the JIT may allocate a few hundred bytes once
      assertThat(allocated)
          .as("bytes the forward allocated over %d steps", STEPS)
          .isLessThan(STEPS);
      assertThat(collections()).as("garbage collections while decoding").isEqualTo(gcBefore);
      cache.release();
    }
  }

  private static int decode(
      LlamaModel model, KvCache cache, int token, ForwardOptions options, int vocab) {
    ForwardResult result = model.forward(SequenceInput.causal(cache, new int[] {token}), options);
    cache.commitNext(1);
    return Sampler.argmax(result.logits(), 0, vocab);
  }

  private static long collections() {
    long count = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      count += gc.getCollectionCount();
    }
    return count;
  }
}
