package io.specd.actors;

import java.util.Arrays;

/**
 * A request {@link Engine#prepare checked and tokenized}, ready to {@link
 * Engine#open(PreparedRequest, java.util.concurrent.CompletionStage) open}: tokenizing a long
 * prompt takes time, so callers that must not block (an HTTP dispatcher) do it beforehand,
 * elsewhere. Immutable.
 */
public final class PreparedRequest {
  private final CompletionRequest request;
  private final int[] prompt;

  PreparedRequest(CompletionRequest request, int[] prompt) {
    this.request = request;
    this.prompt = prompt.clone();
  }

  public CompletionRequest request() {
    return request;
  }

  /** The prompt's token ids. */
  int[] prompt() {
    return prompt.clone();
  }

  @Override
  public String toString() {
    return "PreparedRequest[" + request + ", " + Arrays.toString(prompt) + "]";
  }
}
