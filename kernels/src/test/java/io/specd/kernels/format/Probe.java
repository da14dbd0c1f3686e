package io.specd.kernels.format;

import ai.djl.ndarray.NDManager;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaForward;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;

/** One prefill on a model: its logits and greedy next token. */
final class Probe {
  private Probe() {}

  static float[] logits(LlamaModel model, int[] prompt) {
    try (KvCachePool pool = new KvCachePool(model, 1, 64);
        NDManager m = model.manager().newSubManager()) {
      KvCache cache = pool.allocate();
      return LlamaForward.forward(
              model,
              SequenceInput.causal(cache, prompt),
              ForwardOptions.lastLogits(model.config()),
              m)
          .logits()
          .toFloatArray();
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
