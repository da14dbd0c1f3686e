package io.specd.kernels.spec;

import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.LlamaConfig;

/**
 * A drafter without weights that reads nothing of the target but its logits: the prefill's last row
 * and every verified row. Closing it frees nothing.
 */
public abstract class WeightlessDrafter implements Drafter {
  private final LlamaConfig config;

  protected WeightlessDrafter(LlamaConfig config) {
    this.config = config;
  }

  @Override
  public final ForwardOptions prefillOptions() {
    return ForwardOptions.lastLogits(config);
  }

  @Override
  public final ForwardOptions verifyOptions() {
    return ForwardOptions.allLogits(config);
  }

  @Override
  public final void close() {}
}
