package io.specd.actors;

import io.specd.policies.spec.FinishReason;

/**
 * What a session streams: text as it is decoded, then exactly one {@link Finished} or {@link
 * Failed}.
 */
public sealed interface TokenEvent {

  /**
   * Newly decoded text.
   *
   * @param text the text these tokens complete (may be empty while a character spans tokens or a
   *     stop string might be starting)
   * @param tokenIds the token ids
   */
  record Tokens(String text, int[] tokenIds) implements TokenEvent {
    public Tokens {
      tokenIds = tokenIds.clone();
    }

    @Override
    public int[] tokenIds() {
      return tokenIds.clone();
    }
  }

  /** The generation ended normally (EOS, max tokens, a stop string or a cancellation). */
  record Finished(FinishReason reason, Usage usage) implements TokenEvent {}

  /** The generation failed (device failure, timeout); no more events follow. */
  record Failed(String message) implements TokenEvent {}
}
