package io.specd.actors;

import io.specd.kernels.sample.TokenLogprobs;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps, for a session's text, which token each part came from and how that token was produced,
 * until the text is emitted as one {@link TokenEvent.Tokens}. Decoded text becomes visible later or
 * never (while a stop string might be starting), but always in order, so visible text is matched
 * against the front of the decoded text. Not thread-safe.
 */
final class Provenance {
  private final ArrayDeque<TokenEvent.Span> invisible = new ArrayDeque<>();
  private final List<TokenEvent.Span> spans = new ArrayList<>();
  private final StringBuilder text = new StringBuilder();
  private final List<Integer> ids = new ArrayList<>();
  private final List<Integer> depths = new ArrayList<>();
  private final List<TokenLogprobs> logprobs = new ArrayList<>();
  private int lastDepth = TokenEvent.TARGET;

  /** A committed token, its depth and the text it decoded to (perhaps none yet). */
  void decoded(int id, int depth, String decoded) {
    ids.add(id);
    depths.add(depth);
    lastDepth = depth;
    decodedTail(decoded);
  }

  /** The target's log-probabilities of the token last {@link #decoded}. */
  void scored(TokenLogprobs scored) {
    logprobs.add(scored);
  }

  /** Text decoded after the last token (the end of an unfinished character). */
  void decodedTail(String decoded) {
    if (!decoded.isEmpty()) {
      invisible.add(new TokenEvent.Span(decoded, lastDepth));
    }
  }

  /** Text that became visible: the front of the decoded text not visible yet. */
  void visible(String shown) {
    text.append(shown);
    int at = 0;
    while (at < shown.length()) {
      TokenEvent.Span next = invisible.poll();
      if (next == null) {
        throw new IllegalStateException("visible text that was never decoded: " + shown);
      }
      int n = Math.min(next.text().length(), shown.length() - at);
      spans.add(new TokenEvent.Span(shown.substring(at, at + n), next.depth()));
      if (n < next.text().length()) {
        invisible.push(new TokenEvent.Span(next.text().substring(n), next.depth()));
      }
      at += n;
    }
  }

  /** Whether text became visible since the last event. */
  boolean hasText() {
    return text.length() > 0;
  }

  /** Whether tokens were committed since the last event. */
  boolean hasTokens() {
    return !ids.isEmpty();
  }

  /** The tokens and visible text since the last event, which are then forgotten. */
  TokenEvent.Tokens event() {
    TokenEvent.Tokens event =
        new TokenEvent.Tokens(
            text.toString(),
            ids.stream().mapToInt(Integer::intValue).toArray(),
            depths.stream().mapToInt(Integer::intValue).toArray(),
            spans,
            logprobs);
    text.setLength(0);
    logprobs.clear();
    ids.clear();
    depths.clear();
    spans.clear();
    return event;
  }
}
