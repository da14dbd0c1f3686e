package io.specd.actors;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Keeps a burst of like warnings from flooding the log: per kind, the first few in each window are
 * written and the rest only counted, the count riding on the next one written. A failed device
 * batch ends every session in it, and each would warn. Thread-safe: sessions warn from any thread.
 */
final class RepeatedWarnings {
  private final int perWindow;
  private final long windowNanos;
  private final LongSupplier clock;
  private final Map<String, Window> windows = new HashMap<>();

  private static final class Window {
    long start;
    int written;
    long suppressed;
  }

  /**
   * @param perWindow warnings of a kind written per window
   * @param window the window's length
   * @param clock nanoseconds ({@code System::nanoTime}; tests pass their own)
   */
  RepeatedWarnings(int perWindow, Duration window, LongSupplier clock) {
    this.perWindow = perWindow;
    this.windowNanos = window.toNanos();
    this.clock = clock;
  }

  /** Five of a kind per ten seconds. */
  static RepeatedWarnings standard() {
    return new RepeatedWarnings(5, Duration.ofSeconds(10), System::nanoTime);
  }

  /**
   * Admits a warning of {@code kind}.
   *
   * @return -1 when it must not be written; otherwise how many of its kind were suppressed since
   *     the last one written
   */
  synchronized long admit(String kind) {
    long now = clock.getAsLong();
    Window window = windows.computeIfAbsent(kind, k -> new Window());
    if (window.written == 0 || now - window.start >= windowNanos) {
      window.start = now;
      window.written = 0;
    }
    if (window.written == perWindow) {
      window.suppressed++;
      return -1;
    }
    window.written++;
    long suppressed = window.suppressed;
    window.suppressed = 0;
    return suppressed;
  }
}
