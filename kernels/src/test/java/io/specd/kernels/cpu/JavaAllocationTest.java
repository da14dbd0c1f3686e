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
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The {@code java} backend's decode step allocates nothing once its buffers and cache pages fit:
 * over 5,000 decoding forwards the heap bytes the forward allocates stay flat (less than a byte per
 * step in all) and no garbage collection runs; nor do verifications of a few tokens.
 */
class JavaAllocationTest {
  private static final int STEPS = 5_000;
  private static final int WINDOW = 256;
  private static final int WARM_UP = 20_000;
  private static final int VERIFY_WARM_UP = 1_000;
  private static final int VERIFY_STEPS = 600;

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

  /**
   * Verifying drafts runs other kernels than decoding (split Q8_0 products of two, three and four
   * tokens); on JDK 17 C2 could decline the four-token kernel's reductions and box a vector on
   * every call once a session had verified two tokens before four. Warmed up in that order, a
   * stretch of 2-, 3- and 4-token forwards of a Q8_0 model allocates nothing.
   */
  @Test
  void verifyingShouldAllocateNothingPerToken() {
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    // one thread: every product runs on this one, whose allocations the bean counts
    try (LlamaModel model = LlamaModel.load(TestModels.paddedWide(), new JavaBackend(1));
        KvCachePool pool = model.newCachePool(1, WINDOW)) {
      KvCache cache = pool.allocate();
      ForwardOptions options = ForwardOptions.allLogits(model.config());
      int[][] drafts = new int[5][];
      for (int size = 1; size < drafts.length; size++) {
        drafts[size] = new int[size];
        Arrays.fill(drafts[size], model.config().bosId());
      }
      for (int size : new int[] {1, 2, 4, 3}) {
        for (int step = 0; step < VERIFY_WARM_UP; step++) {
          verify(model, cache, drafts[size], options);
        }
      }
      System.gc();
      long gcBefore = collections();
      long allocated = 0;
      for (int step = 0; step < VERIFY_STEPS; step++) {
        List<SequenceInput> input = verification(cache, drafts[2 + step % 3]);
        long before = threads.getThreadAllocatedBytes(thread);
        model.forward(input, null, options);
        allocated += threads.getThreadAllocatedBytes(thread) - before;
        cache.commitNext(1);
      }
      assertThat(allocated)
          .as("bytes %d verifications of 2, 3 and 4 tokens allocated", VERIFY_STEPS)
          .isLessThan(VERIFY_STEPS);
      assertThat(collections()).as("garbage collections while verifying").isEqualTo(gcBefore);
      cache.release();
    }
  }

  /** Verifies {@code draft} and commits its first token, as a step that accepts nothing does. */
  private static void verify(LlamaModel model, KvCache cache, int[] draft, ForwardOptions options) {
    model.forward(verification(cache, draft), null, options);
    cache.commitNext(1);
  }

  /** The input verifying {@code draft} next, in a bounded window of the cache. */
  private static List<SequenceInput> verification(KvCache cache, int[] draft) {
    if (cache.length() + draft.length >= WINDOW) {
      cache.truncate(0);
    }
    return List.of(SequenceInput.causal(cache, draft));
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
