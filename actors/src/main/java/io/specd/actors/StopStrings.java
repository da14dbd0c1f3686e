package io.specd.actors;

import java.util.List;

/**
 * Finds stop strings in streamed text. Text that might be the start of a stop string is held back
 * until the next text shows whether it is, so no part of a stop string is ever emitted. Not
 * thread-safe.
 */
final class StopStrings {
  private final List<String> stops;
  private final StringBuilder held = new StringBuilder();
  private boolean stopped;

  StopStrings(List<String> stops) {
    this.stops = stops;
  }

  /**
   * Takes newly decoded text and returns what may be emitted now.
   *
   * @return the text before any stop string, minus what is held back
   */
  String accept(String text) {
    if (stopped) {
      return "";
    }
    held.append(text);
    int earliest = -1;
    for (String stop : stops) {
      int at = held.indexOf(stop);
      if (at >= 0 && (earliest < 0 || at < earliest)) {
        earliest = at;
      }
    }
    if (earliest >= 0) {
      stopped = true;
      String out = held.substring(0, earliest);
      held.setLength(0);
      return out;
    }
    int keep = longestStopPrefixSuffix();
    String out = held.substring(0, held.length() - keep);
    held.delete(0, held.length() - keep);
    return out;
  }

  /** Whether a stop string appeared. */
  boolean stopped() {
    return stopped;
  }

  /** The text held back, released when the generation ends without a stop string. */
  String flush() {
    String out = stopped ? "" : held.toString();
    held.setLength(0);
    return out;
  }

  /** The length of the longest suffix of the held text that is a proper prefix of a stop string. */
  private int longestStopPrefixSuffix() {
    int best = 0;
    for (String stop : stops) {
      for (int n = Math.min(stop.length() - 1, held.length()); n > best; n--) {
        if (held.substring(held.length() - n).equals(stop.substring(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
