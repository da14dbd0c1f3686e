package io.specd.kernels.llama;

import io.specd.kernels.format.TensorBytes;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a LLaMA model's configuration, tokenizer and tensors come from (a GGUF file or a Hugging
 * Face directory). Tensors are addressed by their Hugging Face names ({@code
 * model.layers.0.self_attn.q_proj.weight}) and returned as float32 in row-major order of their
 * PyTorch shape ({@code [out, in]} for projections).
 */
public interface WeightSource {
  /** Hugging Face name of the token embeddings. */
  String EMBEDDING = "model.embed_tokens.weight";

  /** Hugging Face name of the LM head. */
  String LM_HEAD = "lm_head.weight";

  /** The file or directory read, for messages. */
  Path path();

  LlamaConfig config();

  TextTokenizer tokenizer();

  /** True if the tensor exists (used for optional tensors such as {@code lm_head.weight}). */
  boolean has(String name);

  /**
   * The tensor holding the token embeddings: {@code model.embed_tokens.weight}, or for a model with
   * tied embeddings stored once as {@code lm_head.weight}, that one.
   */
  default String embeddingName() {
    return has(EMBEDDING) || !has(LM_HEAD) ? EMBEDDING : LM_HEAD;
  }

  /**
   * The tensor holding the LM head: {@code lm_head.weight}, or the embedding when they are tied.
   */
  default String lmHeadName() {
    return has(LM_HEAD) ? LM_HEAD : EMBEDDING;
  }

  /**
   * Reads a tensor and checks its shape.
   *
   * @param name Hugging Face tensor name
   * @param shape the expected PyTorch shape
   * @return the values, row-major
   * @throws io.specd.kernels.format.ModelFormatException if the tensor is missing, of the wrong
   *     shape or of an unreadable type
   */
  float[] read(String name, long... shape);

  /**
   * Reads the first {@code rows} rows of a tensor (the shape check as in {@link #read}); sources
   * that can read part of a tensor override this.
   */
  default float[] readRows(String name, int rows, long... shape) {
    float[] all = read(name, shape);
    long width = 1;
    for (int i = 1; i < shape.length; i++) {
      width *= shape[i];
    }
    return java.util.Arrays.copyOf(all, Math.toIntExact(rows * width));
  }

  /**
   * A tensor in its file encoding, memory-mapped, for backends that compute on it directly; empty
   * when this source cannot map it (the backend then reads floats).
   *
   * @param shape the expected PyTorch shape, checked as in {@link #read}
   */
  default Optional<TensorBytes> encoded(String name, long... shape) {
    return Optional.empty();
  }

  /** Hugging Face names of the per-layer tensors. */
  static String layer(int layer, String suffix) {
    return "model.layers." + layer + "." + suffix;
  }
}
