package io.specd.kernels.generate;

import io.specd.policies.spec.DecodeStats;
import io.specd.policies.spec.FinishReason;

/**
 * The outcome of a generation.
 *
 * @param tokens generated token ids (the prompt and the end-of-generation token excluded)
 * @param finishReason why it ended
 * @param stats counts and timings
 */
public record GenerationResult(int[] tokens, FinishReason finishReason, DecodeStats stats) {
  public GenerationResult {
    tokens = tokens.clone();
  }

  @Override
  public int[] tokens() {
    return tokens.clone();
  }
}
