package io.specd.it;

import io.specd.kernels.llama.Backend;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.HostLayer;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.Linear;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.llama.Transformer;
import io.specd.kernels.llama.WeightSource;
import java.time.Duration;
import java.util.List;

/**
 * A backend whose target model pauses before every forward pass, so that stories260K streams at the
 * pace of a large, memory-bound model (each target forward costs about the same whatever it
 * verifies): slow enough for a person, or a browser test, to watch the tokens come and to stop an
 * answer, and speculation pays off as it does on large models. Drafter stacks run unpaced.
 */
final class PacedBackend implements Backend {
  private final Backend inner;
  private final Duration pause;

  PacedBackend(Backend inner, Duration pause) {
    this.inner = inner;
    this.pause = pause;
  }

  @Override
  public String name() {
    return inner.name();
  }

  @Override
  public Transformer load(WeightSource source) {
    return new Paced(inner.load(source), pause);
  }

  @Override
  public Transformer stack(LlamaConfig config, List<HostLayer> layers) {
    return inner.stack(config, layers);
  }

  @Override
  public Linear linear(float[] weight, int outputs, int inputs) {
    return inner.linear(weight, outputs, inputs);
  }

  @Override
  public void prepareThread() {
    inner.prepareThread();
  }

  private record Paced(Transformer inner, Duration pause) implements Transformer {
    @Override
    public LlamaConfig config() {
      return inner.config();
    }

    @Override
    public ForwardResult forward(
        List<SequenceInput> sequences, float[] inputHidden, ForwardOptions options) {
      try {
        Thread.sleep(pause.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while pacing a forward pass", e);
      }
      return inner.forward(sequences, inputHidden, options);
    }

    @Override
    public KvCachePool newCachePool(int slots, int capacity) {
      return inner.newCachePool(slots, capacity);
    }

    @Override
    public Linear lmHead() {
      return inner.lmHead();
    }

    @Override
    public float[] outputNorm() {
      return inner.outputNorm();
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
