package io.specd.kernels.generate;

/** Receives generated tokens as they are committed. */
@FunctionalInterface
public interface TokenSink {
  /**
   * @param token the next generated token
   * @return false to stop generating (the generation ends as cancelled)
   */
  boolean accept(int token);

  /** A sink that takes everything. */
  TokenSink IGNORE = token -> true;
}
