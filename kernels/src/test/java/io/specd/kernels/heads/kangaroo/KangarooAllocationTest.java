package io.specd.kernels.heads.kangaroo;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.ThreadMXBean;
import io.specd.kernels.TestModels;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.SpeculativeDecoder;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import io.specd.policies.spec.StopRule;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Kangaroo's sampled chains keep each drafted node's warped distribution for verification in the
 * session's own arrays: a fresh distribution, its sampling arrays and a copy of the logit row per
 * node cost 16 bytes a vocabulary token (2.4 MB a node at Qwen2's 151,936; 18 KB a token on
 * stories260K against 4 KB since).
 */
class KangarooAllocationTest {
  private static final int TOKENS = 100;
  private static final int WARM_UP = 300; // generations: until the JIT's escape analysis settles
  private static final int MEASURED = 100;

  @Test
  void sampledDraftsShouldAllocateNoDistributionPerNode() {
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    try (LlamaModel model = TestModels.loadStories260K("java");
        KvCachePool pool = model.newCachePool(1, 512);
        Drafter drafter = TestModels.drafter("kangaroo", model, 1, 512)) {
      SpeculativeDecoder decoder =
          new SpeculativeDecoder(
              model,
              pool,
              drafter,
              () -> new StaticPolicy("static-2", Plan.chain(2, StopRule.NONE)),
              AcceptanceMode.LOSSLESS);
      int[] prompt = model.tokenizer().encodePrompt("Once upon a time, there was a little dog");
      long tokens = 0;
      long allocated = 0;
      for (int i = 0; i < WARM_UP + MEASURED; i++) {
        GenerationRequest request =
            new GenerationRequest(prompt, TOKENS, SamplingParams.ofTemperature(1.0, i));
        long before = threads.getThreadAllocatedBytes(thread);
        int generated = decoder.generate(request, TokenSink.IGNORE).tokens().length;
        if (i >= WARM_UP) {
          allocated += threads.getThreadAllocatedBytes(thread) - before;
          tokens += generated;
        }
      }

      int row = model.config().vocabularySize() * Float.BYTES;
      assertThat(allocated / tokens)
          .as("bytes allocated per token (a vocabulary row is %d bytes)", row)
          .isLessThan(4L * row);
    }
  }
}
