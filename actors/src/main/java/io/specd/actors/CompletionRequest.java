package io.specd.actors;

import io.specd.kernels.sample.TokenLogprobs;
import io.specd.kernels.spec.SessionState;
import io.specd.kernels.tokenizer.TextPiece;
import io.specd.kernels.tokenizer.TextTokenizer;
import io.specd.policies.spec.SamplingParams;
import java.util.List;

/**
 * One generation the engine runs.
 *
 * @param prompt the prompt text in pieces: for chat, rendered through the chat template, whose own
 *     text is parsed for special tokens while the messages' contents are literal; a plain prompt is
 *     one parsed piece, as llama.cpp tokenizes a completion prompt; empty when {@code promptTokens}
 *     is given
 * @param promptTokens the prompt as token ids, used as given (no BOS added), or null to tokenize
 *     {@code prompt}
 * @param maxTokens the most tokens to generate (at least 1)
 * @param sampling greedy (temperature 0) or sampling parameters
 * @param stop strings that end the completion where they appear (not emitted); empty for none
 * @param policy the draft policy by name ({@code static-N}, {@code adaedl}, …, {@code none} for no
 *     speculation), or null for the engine's default
 * @param topLogprobs how many of the most likely tokens to list with each generated token's
 *     log-probability (0 to {@link TokenLogprobs#MAX_TOP}), or {@link SessionState#NO_LOGPROBS} for
 *     no log-probabilities
 */
public record CompletionRequest(
    List<TextPiece> prompt,
    int[] promptTokens,
    int maxTokens,
    SamplingParams sampling,
    List<String> stop,
    String policy,
    int topLogprobs) {

  public CompletionRequest {
    prompt = List.copyOf(prompt);
    promptTokens = promptTokens == null ? null : promptTokens.clone();
    if (promptTokens != null && promptTokens.length == 0) {
      throw new IllegalArgumentException("a prompt of token ids must not be empty");
    }
    if (topLogprobs != SessionState.NO_LOGPROBS
        && (topLogprobs < 0 || topLogprobs > TokenLogprobs.MAX_TOP)) {
      throw new IllegalArgumentException(
          "top log-probabilities must be in [0, "
              + TokenLogprobs.MAX_TOP
              + "], got "
              + topLogprobs);
    }
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

  /** A request for a prompt in pieces, without log-probabilities. */
  public CompletionRequest(
      List<TextPiece> prompt,
      int maxTokens,
      SamplingParams sampling,
      List<String> stop,
      String policy) {
    this(prompt, null, maxTokens, sampling, stop, policy, SessionState.NO_LOGPROBS);
  }

  /** A request for a plain prompt, its special tokens parsed, without log-probabilities. */
  public CompletionRequest(
      String prompt, int maxTokens, SamplingParams sampling, List<String> stop, String policy) {
    this(List.of(TextPiece.parsed(prompt)), maxTokens, sampling, stop, policy);
  }

  @Override
  public int[] promptTokens() {
    return promptTokens == null ? null : promptTokens.clone();
  }

  /**
   * The prompt's token ids: {@code promptTokens} as given, or {@code prompt} tokenized as llama.cpp
   * does (BOS added).
   *
   * @throws IllegalArgumentException for a token id outside the vocabulary
   */
  public int[] promptIds(TextTokenizer tokenizer) {
    return promptIds(prompt, promptTokens, tokenizer);
  }

  /**
   * A prompt's token ids: {@code promptTokens} as given, or {@code prompt} tokenized as llama.cpp
   * does (BOS added).
   *
   * @throws IllegalArgumentException for a token id outside the vocabulary
   */
  public static int[] promptIds(
      List<TextPiece> prompt, int[] promptTokens, TextTokenizer tokenizer) {
    if (promptTokens == null) {
      return tokenizer.encode(prompt, true);
    }
    for (int token : promptTokens) {
      if (token < 0 || token >= tokenizer.vocabularySize()) {
        throw new IllegalArgumentException(
            "token id "
                + token
                + " is outside the vocabulary [0, "
                + tokenizer.vocabularySize()
                + ")");
      }
    }
    return promptTokens.clone();
  }

  /** A greedy request for a plain prompt with no stop strings and the default policy. */
  public static CompletionRequest greedy(String prompt, int maxTokens) {
    return new CompletionRequest(prompt, maxTokens, SamplingParams.GREEDY, List.of(), null);
  }
}
