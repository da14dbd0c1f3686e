package io.specd.kernels.format;

import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import java.util.Arrays;

/** One prefill on a model: its logits and greedy next token. */
final class Probe {
  private Probe() {}

  static float[] logits(LlamaModel model, int[] prompt) {
    try (KvCachePool pool = model.newCachePool(1, 64)) {
      float[] logits =
          model
              .forward(
                  SequenceInput.causal(pool.allocate(), prompt),
                  ForwardOptions.lastLogits(model.config()))
              .logits();
      return Arrays.copyOf(logits, model.config().vocabularySize());
    }
  }

  static int nextToken(LlamaModel model, int[] prompt) {
    float[] logits = logits(model, prompt);
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }
}
