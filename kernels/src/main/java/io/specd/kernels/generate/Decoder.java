package io.specd.kernels.generate;

/**
 * Generates tokens for one request, synchronously, streaming each committed token to a sink. Plain
 * autoregressive decoding and every speculative drafter implement it, so callers (the command line,
 * the benchmark, the tests) can swap them.
 */
public interface Decoder {

  /** A short name for reports ({@code none}, {@code medusa}, …). */
  String name();

  /**
   * Runs one generation.
   *
   * @param request prompt, length limit and sampling
   * @param sink receives each generated token; returning false cancels
   * @return the tokens, finish reason and statistics
   * @throws IllegalArgumentException if the prompt and max tokens do not fit the context
   */
  GenerationResult generate(GenerationRequest request, TokenSink sink);
}
