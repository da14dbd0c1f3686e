package io.specd.streams.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** The command line's progress bars: ASCII, on standard error, with the elapsed time and an ETA. */
final class ProgressBars {
  /** Characters of a rendered bar: room for the task, the counts, the times and a message. */
  private static final int RENDERED_LENGTH = 130;

  private ProgressBars() {}

  /** A bar for {@code total} steps of {@code task}, to adjust before building. */
  static ProgressBarBuilder builder(String task, long total) {
    return new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(total)
        .setStyle(ProgressBarStyle.ASCII)
        .setMaxRenderedLength(RENDERED_LENGTH);
  }

  /** A bar for {@code total} steps of {@code task}. */
  static ProgressBar of(String task, long total) {
    return builder(task, total).build();
  }
}
