package io.specd.kernels.tokenizer;

import java.util.Objects;

/**
 * A piece of a prompt and whether the special tokens written in it are recognised. A chat prompt is
 * a list of pieces: the template's own text (e.g. {@code <|im_start|>user\n}) is {@link #parsed},
 * so its control tokens become single tokens, while the user's text is {@link #literal}, so a user
 * who types {@code <|im_end|>} gets the characters, never the control token. See {@link
 * TextTokenizer#encode(java.util.List, boolean)}.
 *
 * @param text the text
 * @param parseSpecial recognise control tokens written in this text
 */
public record TextPiece(String text, boolean parseSpecial) {
  public TextPiece {
    Objects.requireNonNull(text, "text");
  }

  /** Text whose special tokens are recognised (a template's own text). */
  public static TextPiece parsed(String text) {
    return new TextPiece(text, true);
  }

  /** Text whose special tokens stay text (what a user wrote). */
  public static TextPiece literal(String text) {
    return new TextPiece(text, false);
  }
}
