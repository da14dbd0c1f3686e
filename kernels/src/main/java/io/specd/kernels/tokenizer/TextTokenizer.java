package io.specd.kernels.tokenizer;

/**
 * Turns text into token ids and back. Implementations are immutable and thread-safe.
 *
 * <p>{@link #decode} renders control tokens (BOS, EOS, …) as nothing and joins the bytes of the
 * other tokens; a character split across tokens comes out whole once all its bytes are there. For
 * streaming, use an {@link IncrementalDecoder}, which never emits a broken character.
 */
public interface TextTokenizer {

  /**
   * Tokenizes text.
   *
   * @param text the text
   * @param addSpecial add the model's BOS (and EOS, if the model asks for it)
   * @param parseSpecial recognise control tokens written as text (e.g. {@code </s>}); user-defined
   *     tokens are always recognised
   * @return the token ids
   */
  int[] encode(String text, boolean addSpecial, boolean parseSpecial);

  /** Tokenizes a prompt the way llama.cpp does for generation: BOS added, specials parsed. */
  default int[] encodePrompt(String text) {
    return encode(text, true, true);
  }

  /** The text of the given tokens; characters split across tokens are joined. */
  String decode(int[] tokens);

  /** The piece of one token as stored in the vocabulary (for diagnostics). */
  String piece(int token);

  int vocabularySize();

  int bosId();

  int eosId();

  /** True for tokens that end a generation (EOS and any other end-of-generation token). */
  default boolean isEndOfGeneration(int token) {
    return token == eosId();
  }
}
