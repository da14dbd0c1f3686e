package io.specd.kernels.tokenizer;

import java.util.Arrays;

/**
 * Streams the text of a token sequence as tokens arrive, one call per token, without ever emitting
 * a broken UTF-8 character and without the leading-space loss that decoding a lone token causes.
 *
 * <p>It decodes a short window of recent tokens twice (with and without the newest ones) and emits
 * the difference, holding text back while it ends in an incomplete character (U+FFFD). This works
 * for any tokenizer whose {@link TextTokenizer#decode} is a function of the token sequence. Not
 * thread-safe: one instance per stream.
 */
public final class IncrementalDecoder {
  private static final char REPLACEMENT = '\uFFFD';
  private static final int CONTEXT = 4;

  private final TextTokenizer tokenizer;
  private int[] tokens;
  private int size;
  private int prefixOffset;
  private int readOffset;

  /**
   * @param tokenizer the tokenizer
   * @param context tokens that precede the stream (usually the prompt), used only so the first
   *     emitted text decodes in context; they are never emitted themselves
   */
  public IncrementalDecoder(TextTokenizer tokenizer, int[] context) {
    this.tokenizer = tokenizer;
    int keep = Math.min(CONTEXT, context.length);
    this.tokens = Arrays.copyOfRange(context, context.length - keep, context.length + 16);
    this.size = keep;
    this.prefixOffset = 0;
    this.readOffset = keep;
  }

  /**
   * Adds one token and returns the text that is now complete (possibly empty).
   *
   * @param token the next token id
   * @return newly completed text
   */
  public String accept(int token) {
    if (size == tokens.length) {
      tokens = Arrays.copyOf(tokens, tokens.length * 2);
    }
    tokens[size++] = token;
    String before = tokenizer.decode(Arrays.copyOfRange(tokens, prefixOffset, readOffset));
    String after = tokenizer.decode(Arrays.copyOfRange(tokens, prefixOffset, size));
    if (after.length() > before.length() && after.charAt(after.length() - 1) != REPLACEMENT) {
      String text = after.substring(before.length());
      compact();
      return text;
    }
    return "";
  }

  /** The text still held back (an incomplete character at the end of the stream), if any. */
  public String flush() {
    String before = tokenizer.decode(Arrays.copyOfRange(tokens, prefixOffset, readOffset));
    String after = tokenizer.decode(Arrays.copyOfRange(tokens, prefixOffset, size));
    compact();
    return after.length() > before.length() ? after.substring(before.length()) : "";
  }

  /** Slides the window: the emitted tokens become context, keeping at most a few of them. */
  private void compact() {
    int start = Math.max(0, size - CONTEXT);
    System.arraycopy(tokens, start, tokens, 0, size - start);
    size -= start;
    prefixOffset = 0;
    readOffset = size;
  }
}
