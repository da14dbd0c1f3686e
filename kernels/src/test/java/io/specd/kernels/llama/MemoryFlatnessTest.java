package io.specd.kernels.llama;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.specd.kernels.TestModels;
import org.junit.jupiter.api.Test;

/** Every step runs in its own scope: nothing a step creates outlives it. */
class MemoryFlatnessTest {

  @Test
  void liveArraysShouldBeTheSameAfterAThousandStepsAsAfterTen() {
    try (LlamaModel model = TestModels.loadStories260K();
        KvCachePool pool = new KvCachePool(model, 1, 64)) {
      KvCache cache = pool.allocate();
      int after10 = 0;
      int token = model.config().bosId();
      for (int step = 1; step <= 1000; step++) {
        if (cache.length() == cache.capacity() - 1) {
          cache.truncate(0); // keep decoding in a bounded window
        }
        try (NDManager m = model.manager().newSubManager()) {
          ForwardResult r =
              LlamaForward.forward(
                  model,
                  SequenceInput.causal(cache, new int[] {token}),
                  ForwardOptions.lastLogits(model.config()).withHidden(true, true),
                  m);
          cache.commit(0);
          token = (int) r.logits().argMax().getLong();
        }
        if (step == 10) {
          after10 = liveArrays(model);
        }
      }
      assertThat(liveArrays(model)).isEqualTo(after10);
      // the count covers sub-managers: 4 arrays per layer, embedding, norm, LM head and eps,
      // the pool's two tensors and their per-layer views, and the live cache's per-layer views
      assertThat(after10).isEqualTo(5 * 4 + 4 + 2 + 2 * 5 + 2 * 5);
      cache.release();
    }
  }

  private static int liveArrays(LlamaModel model) {
    return model.manager().getManagedArrays().size();
  }
}
