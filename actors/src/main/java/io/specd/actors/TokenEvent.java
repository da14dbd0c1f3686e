package io.specd.actors;

import io.specd.kernels.sample.TokenLogprobs;
import io.specd.policies.spec.FinishReason;
import java.util.List;

/**
 * What a session streams: text as it is decoded, then exactly one {@link Finished} or {@link
 * Failed}.
 */
public sealed interface TokenEvent {

  /**
   * How a token was produced: its depth; 0 is the target's own token (first, bonus or corrected).
   */
  int TARGET = 0;

  /**
   * Newly decoded text.
   *
   * @param text the text these tokens complete (may be empty while a character spans tokens or a
   *     stop string might be starting)
   * @param tokenIds the token ids
   * @param depths per token id, how it was produced: {@code k ≥ 1} accepted from the draft at depth
   *     {@code k}, {@link #TARGET} the target's own token; each step's tokens are {@code 1..k, 0}
   * @param spans {@code text} split by the token each part came from (text held back while a stop
   *     string might be starting keeps the depth of the token that decoded it)
   * @param logprobs per token id, the target's log-probabilities at its position (empty unless the
   *     request asked for them)
   */
  record Tokens(
      String text, int[] tokenIds, int[] depths, List<Span> spans, List<TokenLogprobs> logprobs)
      implements TokenEvent {
    public Tokens {
      tokenIds = tokenIds.clone();
      depths = depths.clone();
      spans = List.copyOf(spans);
      logprobs = List.copyOf(logprobs);
      if (depths.length != tokenIds.length) {
        throw new IllegalArgumentException(
            depths.length + " depths for " + tokenIds.length + " tokens");
      }
      if (!logprobs.isEmpty() && logprobs.size() != tokenIds.length) {
        throw new IllegalArgumentException(
            logprobs.size() + " log-probabilities for " + tokenIds.length + " tokens");
      }
    }

    /** Tokens without log-probabilities. */
    public Tokens(String text, int[] tokenIds, int[] depths, List<Span> spans) {
      this(text, tokenIds, depths, spans, List.of());
    }

    @Override
    public int[] tokenIds() {
      return tokenIds.clone();
    }

    @Override
    public int[] depths() {
      return depths.clone();
    }
  }

  /**
   * A part of the emitted text and the depth of the token that decoded it.
   *
   * @param text the text (not empty)
   * @param depth {@code k ≥ 1} accepted from the draft at depth {@code k}, {@link #TARGET} the
   *     target's own token
   */
  record Span(String text, int depth) {}

  /** The generation ended normally (EOS, max tokens, a stop string or a cancellation). */
  record Finished(FinishReason reason, Usage usage) implements TokenEvent {}

  /** The generation failed (device failure, timeout); no more events follow. */
  record Failed(String message) implements TokenEvent {}
}
