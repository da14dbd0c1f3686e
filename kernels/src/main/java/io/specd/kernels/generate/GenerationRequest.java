package io.specd.kernels.generate;

import io.specd.policies.spec.SamplingParams;
import java.util.Arrays;

/**
 * What to generate.
 *
 * @param prompt prompt token ids (BOS included if the model wants one)
 * @param maxTokens the most tokens to generate (at least 1)
 * @param sampling greedy or sampling parameters
 */
public record GenerationRequest(int[] prompt, int maxTokens, SamplingParams sampling) {

  public GenerationRequest {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("the prompt has no tokens");
    }
    if (maxTokens < 1) {
      throw new IllegalArgumentException("max_tokens must be at least 1, got " + maxTokens);
    }
    prompt = prompt.clone();
  }

  @Override
  public int[] prompt() {
    return prompt.clone();
  }

  /**
   * Checks that the prompt and the tokens to generate fit a context of the given length.
   *
   * @throws IllegalArgumentException naming both numbers if they do not
   */
  public void checkFits(int contextLength) {
    if (prompt.length + maxTokens > contextLength) {
      throw new IllegalArgumentException(
          "the prompt has "
              + prompt.length
              + " tokens and max_tokens is "
              + maxTokens
              + ": together "
              + (prompt.length + maxTokens)
              + ", beyond the context length of "
              + contextLength);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GenerationRequest r
        && Arrays.equals(r.prompt, prompt)
        && r.maxTokens == maxTokens
        && r.sampling.equals(sampling);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(prompt) * 31 + maxTokens;
  }
}
