package io.specd.kernels.tokenizer;

import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.ModelFormatException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The special tokens of a GGUF vocabulary: BOS and EOS, whether a prompt gets them, and the tokens
 * that end a generation.
 *
 * @param bosId the beginning-of-sequence token
 * @param eosId the end-of-sequence token
 * @param addBos whether an encoded prompt starts with BOS
 * @param addEos whether an encoded prompt ends with EOS
 * @param endOfGeneration every token that ends a generation (EOS among them)
 */
record SpecialTokens(
    int bosId, int eosId, boolean addBos, boolean addEos, Set<Integer> endOfGeneration) {

  /**
   * Token texts that end a turn in the chat formats of common models, recognised by text as
   * llama.cpp does, since converters rarely record them in {@code tokenizer.ggml.eot_token_id}.
   */
  private static final Set<String> END_OF_TURN_TEXTS =
      Set.of(
          "<|eot_id|>",
          "<|eom_id|>",
          "<|im_end|>",
          "<|end|>",
          "<end_of_turn>",
          "<|endoftext|>",
          "<|end_of_text|>",
          "<EOT>");

  SpecialTokens {
    endOfGeneration = Set.copyOf(endOfGeneration);
  }

  /**
   * Reads {@code tokenizer.ggml.{bos,eos,eot,eom}_token_id} and {@code add_{bos,eos}_token}.
   *
   * <p>The defaults, for files without the keys, differ by tokenizer model as in llama.cpp. A
   * prompt never gets EOS unless the file asks for it.
   *
   * @param tokens the vocabulary
   * @param defaultBos BOS when the file names none
   * @param defaultEos EOS when the file names none
   * @param defaultAddBos whether a prompt gets BOS when the file does not say
   */
  static SpecialTokens fromGguf(
      GgufFile gguf, List<String> tokens, int defaultBos, int defaultEos, boolean defaultAddBos) {
    int bos = tokenId(gguf, "tokenizer.ggml.bos_token_id", defaultBos, tokens.size());
    int eos = tokenId(gguf, "tokenizer.ggml.eos_token_id", defaultEos, tokens.size());
    Set<Integer> endOfTurn = new HashSet<>();
    for (String key : List.of("tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id")) {
      if (gguf.has(key)) {
        endOfTurn.add(tokenId(gguf, key, eos, tokens.size()));
      }
    }
    return of(
        tokens,
        bos,
        eos,
        gguf.optionalBoolean("tokenizer.ggml.add_bos_token").orElse(defaultAddBos),
        gguf.optionalBoolean("tokenizer.ggml.add_eos_token").orElse(false),
        endOfTurn);
  }

  /**
   * The special tokens of a vocabulary; the tokens that end a generation are EOS, the given ones,
   * and those whose text ends a turn in common chat formats.
   */
  static SpecialTokens of(
      List<String> tokens,
      int bos,
      int eos,
      boolean addBos,
      boolean addEos,
      Set<Integer> endOfTurn) {
    Set<Integer> endOfGeneration = new HashSet<>(endOfTurn);
    endOfGeneration.add(eos);
    for (int id = 0; id < tokens.size(); id++) {
      if (END_OF_TURN_TEXTS.contains(tokens.get(id))) {
        endOfGeneration.add(id);
      }
    }
    return new SpecialTokens(bos, eos, addBos, addEos, endOfGeneration);
  }

  /** A token id from the metadata, or the default when absent. */
  static int tokenId(GgufFile gguf, String key, int fallback, int vocabularySize) {
    long id = gguf.optionalInteger(key).orElse((long) fallback);
    if (id < 0 || id >= vocabularySize) {
      throw new ModelFormatException(
          gguf.path(), key + " is " + id + ", outside the vocabulary of " + vocabularySize);
    }
    return (int) id;
  }
}
