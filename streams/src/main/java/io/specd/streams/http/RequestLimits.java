package io.specd.streams.http;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * What one request may ask of the server, checked before any work is done for it ({@code
 * specd.http.limits} in {@code reference.conf}).
 *
 * @param bodyBytes the largest request body, and the largest WebSocket message (413 beyond it)
 * @param bodyTimeout how long a request body may take to arrive once its head has (408 beyond it)
 * @param promptBytes the largest prompt in UTF-8 bytes, checked before it is tokenized (400)
 * @param stopStrings the most stop strings a request may give (OpenAI allows 4)
 * @param stopLength the longest stop string in characters (each is matched against held-back text
 *     after every token, so both bound a step's work)
 * @param choices the most choices (prompts times {@code n}) one request may ask for
 * @param topK the largest {@code top_k} (sorting that many candidates is a step's work too)
 * @param pendingReads the most request bodies read, checked and tokenized or waiting for it at once
 *     (429 beyond it)
 */
public record RequestLimits(
    long bodyBytes,
    Duration bodyTimeout,
    int promptBytes,
    int stopStrings,
    int stopLength,
    int choices,
    int topK,
    int pendingReads) {

  public RequestLimits {
    if (bodyBytes < 1) {
      throw new IllegalArgumentException("specd.http.limits.body-bytes must be positive");
    }
    if (bodyTimeout.isNegative() || bodyTimeout.isZero()) {
      throw new IllegalArgumentException("specd.http.limits.body-timeout must be positive");
    }
    if (promptBytes < 1) {
      throw new IllegalArgumentException("specd.http.limits.prompt-bytes must be positive");
    }
    if (stopStrings < 0 || stopLength < 1) {
      throw new IllegalArgumentException(
          "specd.http.limits.stop-strings must be >= 0 and stop-length >= 1");
    }
    if (choices < 1 || topK < 1 || pendingReads < 1) {
      throw new IllegalArgumentException(
          "specd.http.limits.choices, top-k and pending-reads must be positive");
    }
  }

  /** Reads {@code specd.http.limits}. */
  public static RequestLimits fromConfig(Config http) {
    Config c = http.getConfig("limits");
    return new RequestLimits(
        c.getBytes("body-bytes"),
        c.getDuration("body-timeout"),
        Math.toIntExact(c.getBytes("prompt-bytes")),
        c.getInt("stop-strings"),
        c.getInt("stop-length"),
        c.getInt("choices"),
        c.getInt("top-k"),
        c.getInt("pending-reads"));
  }
}
