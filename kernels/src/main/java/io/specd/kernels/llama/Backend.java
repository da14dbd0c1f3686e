package io.specd.kernels.llama;

import java.util.List;

/**
 * Where tensor math runs, chosen once at start-up: {@code java} (pure Java with the Vector API,
 * weights kept in their file encoding: the CPU default) or {@code torch} (DJL/PyTorch: the GPU
 * path, head training, and an independent cross-check in tests). Everything above the backend —
 * drafters, verification, sampling, the engine — works on host values and sees only {@link
 * Transformer}, {@link KvCachePool} and {@link Linear}.
 */
public interface Backend {

  /** {@code java} or {@code torch}. */
  String name();

  /**
   * Loads a model's weights: token embedding, decoder layers, final norm and LM head.
   *
   * @throws io.specd.kernels.format.ModelFormatException if a tensor cannot be read
   */
  Transformer load(WeightSource source);

  /**
   * A decoder stack with a target's shape but layers of its own and no embedding or LM head: a
   * drafter's augmenting block or adapter, run over hidden states with its own KV caches.
   *
   * @param config the target's configuration with the stack's layer count
   * @param layers the stack's layers in Hugging Face layout
   */
  Transformer stack(LlamaConfig config, List<HostLayer> layers);

  /**
   * A dense matrix on this backend, applied to host rows: {@code y = x · Wᵀ}.
   *
   * @param weight {@code W [outputs, inputs]} row-major (PyTorch layout)
   */
  Linear linear(float[] weight, int outputs, int inputs);

  /** Prepares the calling thread for tensor work (the device actor's thread runs every step). */
  default void prepareThread() {}
}
