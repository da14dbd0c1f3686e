package io.specd.streams.http;

import io.specd.kernels.tokenizer.TextPiece;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Refuses a prompt by its size before it is tokenized, so that a huge prompt costs the server no
 * more than reading it: beyond {@code specd.http.limits.prompt-bytes}, or so long that it cannot
 * fit the context. A token stands for about as many bytes of text as its piece in the vocabulary
 * (SentencePiece's {@code ▁} and byte tokens {@code <0xNN>} are longer than the bytes they decode
 * to; a Hugging Face normaliser may shorten text, NFKC by up to 3 bytes to 1), so a prompt of more
 * than {@code context × 4 × longest piece} bytes has more tokens than the context holds: refused
 * without tokenizing. Prompts under that bound are tokenized and checked exactly. Immutable.
 */
final class PromptBudget {
  /** The margin for normalisers that shorten text (see the class comment). */
  private static final int NORMALISATION_MARGIN = 4;

  private final int maxBytes;
  private final long contextBytes;

  /**
   * @param maxBytes the configured limit
   * @param contextLength the tokens a request may hold
   * @param tokenizer the model's vocabulary
   */
  PromptBudget(int maxBytes, int contextLength, TextTokenizer tokenizer) {
    this.maxBytes = maxBytes;
    this.contextBytes = (long) contextLength * NORMALISATION_MARGIN * longestPieceBytes(tokenizer);
  }

  /**
   * Checks a prompt's size (the sum of its pieces).
   *
   * @param field the request field that carries the prompt
   * @throws ApiError when it is over the limit or cannot fit the context
   */
  void check(List<TextPiece> prompt, String field) {
    long bytes = 0;
    for (TextPiece piece : prompt) {
      bytes += utf8Length(piece.text());
    }
    if (bytes > maxBytes) {
      throw ApiError.invalid(
          field,
          "prompt_too_large",
          "the prompt has "
              + bytes
              + " bytes, beyond this server's limit of "
              + maxBytes
              + " (specd.http.limits.prompt-bytes)");
    }
    if (bytes > contextBytes) {
      throw ApiError.invalid(
          field,
          "context_length_exceeded",
          "the prompt has "
              + bytes
              + " bytes: more tokens than the context length holds, whatever the text");
    }
  }

  private static int longestPieceBytes(TextTokenizer tokenizer) {
    int longest = 1;
    for (int token = 0; token < tokenizer.vocabularySize(); token++) {
      longest = Math.max(longest, tokenizer.piece(token).getBytes(StandardCharsets.UTF_8).length);
    }
    return longest;
  }

  /** The UTF-8 length without encoding the string (prompts may be megabytes). */
  private static long utf8Length(String text) {
    long bytes = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }
}
