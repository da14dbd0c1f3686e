package io.specd.kernels.format;

import java.nio.file.Path;

/**
 * A model or checkpoint file that cannot be used: truncated, of a foreign format or version, with
 * an unsupported tensor type, or missing a tensor. The message always names the file and the
 * problem, so it can be shown to a user as is.
 */
public final class ModelFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  public ModelFormatException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  public ModelFormatException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The file that could not be used. */
  public Path file() {
    return file;
  }
}
