package io.specd.kernels.tokenizer;

import java.util.List;

/**
 * Turns text into token ids and back. Implementations are immutable and thread-safe.
 *
 * <p>{@link #decode} renders control tokens (BOS, EOS, …) as nothing unless asked and joins the
 * bytes of the other tokens; a character split across tokens comes out whole once all its bytes are
 * there. For streaming, use an {@link IncrementalDecoder}, which never emits a broken character.
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
  default int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
    return encode(List.of(new TextPiece(text, parseSpecial)), addSpecial);
  }

  /**
   * Tokenizes a text made of pieces, recognising control tokens only in the pieces that ask for it:
   * a chat template's own text is parsed, the users' messages are literal. The result is the
   * tokenization of the concatenated text, except that no special token is recognised inside a
   * literal piece (or across a piece boundary).
   *
   * @param pieces the text, in order
   * @param addSpecial add the model's BOS (and EOS, if the model asks for it)
   * @return the token ids
   */
  int[] encode(List<TextPiece> pieces, boolean addSpecial);

  /** Tokenizes a prompt the way llama.cpp does for generation: BOS added, specials parsed. */
  default int[] encodePrompt(String text) {
    return encode(text, true, true);
  }

  /** The text of the given tokens, control tokens rendered as nothing. */
  default String decode(int[] tokens) {
    return decode(tokens, false);
  }

  /**
   * The text of the given tokens; characters split across tokens are joined.
   *
   * @param tokens the token ids
   * @param renderSpecial write control tokens as their text (e.g. {@code <|eot_id|>}) instead of
   *     nothing
   */
  String decode(int[] tokens, boolean renderSpecial);

  /**
   * The bytes one token stands for, control tokens as their text: a character split across tokens
   * has part of its UTF-8 bytes in each.
   */
  byte[] tokenBytes(int token);

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
