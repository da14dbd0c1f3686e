package io.specd.kernels.tokenizer;

/**
 * The token types of a GGUF vocabulary ({@code tokenizer.ggml.token_type}), as ggml numbers them.
 */
final class TokenTypes {
  static final int NORMAL = 1;
  static final int UNKNOWN = 2;
  static final int CONTROL = 3;
  static final int USER_DEFINED = 4;
  static final int UNUSED = 5;
  static final int BYTE = 6;

  private TokenTypes() {}

  /** True for the types whose text is written out only when asked (control and unknown tokens). */
  static boolean isHidden(int type) {
    return type == CONTROL || type == UNKNOWN;
  }

  /** The byte value of a {@code <0xNN>} token, or -1. */
  static int parseByteToken(String piece) {
    if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
      try {
        return Integer.parseInt(piece.substring(3, 5), 16);
      } catch (NumberFormatException e) {
        return -1;
      }
    }
    return -1;
  }
}
