package io.specd.kernels.tokenizer;

import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.ModelFormatException;

/** Reads the tokenizer a GGUF file embeds, by its {@code tokenizer.ggml.model}. */
public final class GgufTokenizers {
  private GgufTokenizers() {}

  /**
   * The tokenizer of a GGUF file: SentencePiece-style BPE for {@code llama}, byte-level BPE for
   * {@code gpt2}. A vocabulary-only file (no tensors) is enough.
   *
   * @throws ModelFormatException if the tokenizer model is one specd does not read
   */
  public static TextTokenizer read(GgufFile gguf) {
    // llama.cpp treats a file without the key as SentencePiece
    String model = gguf.optionalString("tokenizer.ggml.model").orElse("llama");
    return switch (model) {
      case "llama" -> SentencePieceTokenizer.fromGguf(gguf);
      case "gpt2" -> ByteLevelBpeTokenizer.fromGguf(gguf);
      default ->
          throw new ModelFormatException(
              gguf.path(),
              "tokenizer model '"
                  + model
                  + "' (tokenizer.ggml.model) is not supported; specd reads llama"
                  + " (SentencePiece) and gpt2 (byte-level BPE)");
    };
  }
}
