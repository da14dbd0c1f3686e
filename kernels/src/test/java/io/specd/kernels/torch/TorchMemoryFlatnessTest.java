package io.specd.kernels.torch;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.sample.Sampler;
import org.junit.jupiter.api.Test;

/** On the torch backend every forward runs in its own scope: nothing a step creates outlives it. */
class TorchMemoryFlatnessTest {

  @Test
  void liveArraysShouldBeTheSameAfterAThousandStepsAsAfterTen() {
    try (LlamaModel model = TestModels.loadStories260K("torch");
        KvCachePool pool = model.newCachePool(1, 64)) {
      KvCache cache = pool.allocate();
      int after10 = 0;
      int token = model.config().bosId();
      int vocab = model.config().vocabularySize();
      for (int step = 1; step <= 1000; step++) {
        if (cache.length() == cache.capacity() - 1) {
          cache.truncate(0); // keep decoding in a bounded window
        }
        ForwardResult r =
            model.forward(
                SequenceInput.causal(cache, new int[] {token}),
                ForwardOptions.lastLogits(model.config()).withHidden(true, true));
        cache.commit(0);
        token = Sampler.argmax(r.logits(), 0, vocab);
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
    return TorchModel.of(model).manager().getManagedArrays().size();
  }
}
