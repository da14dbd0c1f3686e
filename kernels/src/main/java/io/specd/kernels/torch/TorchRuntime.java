package io.specd.kernels.torch;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import io.specd.kernels.llama.LlamaConfig;

/**
 * Process-wide settings of the PyTorch engine under DJL. Small models are dominated by per-op
 * overhead, where extra intra-op threads only add synchronisation; larger ones want every core.
 */
public final class TorchRuntime {
  /** Below this width one thread is faster than several (measured on stories260K, width 64). */
  private static final int SMALL_MODEL_DIM = 512;

  /**
   * The count last set: PyTorch's setting can be per thread (OpenMP), so new threads re-apply it.
   */
  private static volatile int threads;

  private TorchRuntime() {}

  /**
   * The thread count to use for a model: 1 for small models, every available core otherwise.
   *
   * @param config the model
   * @param requested a positive count to force, or 0 for the default
   */
  public static int threadsFor(LlamaConfig config, int requested) {
    if (requested > 0) {
      return requested;
    }
    return config.dim() < SMALL_MODEL_DIM ? 1 : Runtime.getRuntime().availableProcessors();
  }

  /** Sets PyTorch's intra-op thread count (initialising the engine if needed). */
  public static void useThreads(int count) {
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(count);
    threads = count;
  }

  /**
   * Applies the last {@link #useThreads} count to the calling thread (call it first on a thread
   * that runs tensor work, such as the device actor's; OpenMP keeps the count per thread).
   */
  public static void applyToThisThread() {
    if (threads > 0) {
      JniUtils.setNumThreads(threads);
    }
  }
}
