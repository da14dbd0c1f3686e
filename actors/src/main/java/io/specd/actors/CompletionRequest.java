package io.specd.actors;

import io.specd.kernels.tokenizer.TextPiece;
import io.specd.policies.spec.SamplingParams;
import java.util.List;

/**
 * One generation the engine runs.
 *
 * @param prompt the prompt text in pieces: for chat, rendered through the chat template, whose own
 *     text is parsed for special tokens while the messages' contents are literal; a plain prompt is
 *     one parsed piece, as llama.cpp tokenizes a completion prompt
 * @param maxTokens the most tokens to generate (at least 1)
 * @param sampling greedy (temperature 0) or sampling parameters
 * @param stop strings that end the completion where they appear (not emitted); empty for none
 * @param policy the draft policy by name ({@code static-N}, {@code adaedl}, …, {@code none} for no
 *     speculation), or null for the engine's default
 */
public record CompletionRequest(
    List<TextPiece> prompt,
    int maxTokens,
    SamplingParams sampling,
    List<String> stop,
    String policy) {

  public CompletionRequest {
    prompt = List.copyOf(prompt);
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

  /** A request for a plain prompt, its special tokens parsed. */
  public CompletionRequest(
      String prompt, int maxTokens, SamplingParams sampling, List<String> stop, String policy) {
    this(List.of(TextPiece.parsed(prompt)), maxTokens, sampling, stop, policy);
  }

  /** A greedy request for a plain prompt with no stop strings and the default policy. */
  public static CompletionRequest greedy(String prompt, int maxTokens) {
    return new CompletionRequest(prompt, maxTokens, SamplingParams.GREEDY, List.of(), null);
  }
}
