package io.specd.actors;

import io.specd.policies.spec.SamplingParams;
import java.util.List;

/**
 * One generation the engine runs.
 *
 * @param prompt the prompt text (for chat, already rendered through the chat template)
 * @param maxTokens the most tokens to generate (at least 1)
 * @param sampling greedy (temperature 0) or sampling parameters
 * @param stop strings that end the completion where they appear (not emitted); empty for none
 * @param policy the draft policy by name ({@code static-N}, {@code adaedl}, …, {@code none} for no
 *     speculation), or null for the engine's default
 */
public record CompletionRequest(
    String prompt, int maxTokens, SamplingParams sampling, List<String> stop, String policy) {

  public CompletionRequest {
    if (maxTokens < 1) {
      throw new IllegalArgumentException("max_tokens must be at least 1, got " + maxTokens);
    }
    stop = List.copyOf(stop);
    for (String s : stop) {
      if (s.isEmpty()) {
        throw new IllegalArgumentException("stop strings must not be empty");
      }
    }
  }

  /** A greedy request with no stop strings and the default policy. */
  public static CompletionRequest greedy(String prompt, int maxTokens) {
    return new CompletionRequest(prompt, maxTokens, SamplingParams.GREEDY, List.of(), null);
  }
}
