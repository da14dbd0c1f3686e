package io.specd.kernels.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The bytes each token of a GGUF vocabulary stands for, and the decoding that joins them: control
 * and unknown tokens are written only when asked, and a character split across tokens comes out
 * whole. Immutable and thread-safe.
 */
final class RenderedTokens {
  private final byte[][] bytes;
  private final int[] types;

  /**
   * @param bytes the bytes of each token, indexed by id (not copied)
   * @param types the GGUF type of each token
   */
  RenderedTokens(byte[][] bytes, int[] types) {
    this.bytes = bytes;
    this.types = types;
  }

  /** The text of the tokens; control and unknown tokens are rendered only if renderSpecial. */
  String decode(int[] tokens, boolean renderSpecial) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int token : tokens) {
      checkId(token);
      if (renderSpecial || !TokenTypes.isHidden(types[token])) {
        out.writeBytes(bytes[token]);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The bytes of one token (a copy). */
  byte[] bytes(int token) {
    checkId(token);
    return bytes[token].clone();
  }

  /** Throws unless the id is in the vocabulary. */
  void checkId(int token) {
    if (token < 0 || token >= bytes.length) {
      throw new IllegalArgumentException(
          "token id " + token + " is outside the vocabulary of " + bytes.length);
    }
  }
}
