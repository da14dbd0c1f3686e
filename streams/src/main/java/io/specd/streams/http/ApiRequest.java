package io.specd.streams.http;

import io.specd.actors.CompletionRequest;
import io.specd.actors.PreparedRequest;
import io.specd.kernels.spec.SessionState;
import java.util.List;

/**
 * A generation request as the HTTP API received it, read and checked by {@link RequestReader}: one
 * choice per prompt and sample, each a generation the engine runs.
 *
 * @param kind a text completion or a chat completion
 * @param choices the generations, by {@code index}: prompt {@code p}'s sample {@code s} is choice
 *     {@code p · n + s}
 * @param n samples per prompt
 * @param stream whether the client asked for server-sent events
 * @param includeUsage whether a streamed response ends with a usage chunk ({@code
 *     stream_options.include_usage})
 */
public record ApiRequest(
    Kind kind, List<Choice> choices, int n, boolean stream, boolean includeUsage) {

  public ApiRequest {
    choices = List.copyOf(choices);
    if (choices.isEmpty()) {
      throw new IllegalArgumentException("a request has at least one choice");
    }
  }

  /** The two OpenAI generation endpoints. */
  public enum Kind {
    /** {@code /v1/completions}: a prompt string. */
    COMPLETION,
    /** {@code /v1/chat/completions}: messages rendered through the chat template. */
    CHAT
  }

  /**
   * One generation of a request.
   *
   * @param index its place among the response's choices
   * @param prepared what the engine runs, checked and tokenized (for chat, the prompt is the
   *     rendered conversation)
   * @param echo the text the choice starts with ({@code echo}: the prompt), or empty
   */
  public record Choice(int index, PreparedRequest prepared, String echo) {

    /** The request the choice runs. */
    public CompletionRequest completion() {
      return prepared.request();
    }

    /** Whether the client asked for the log-probabilities of the generated tokens. */
    boolean logprobs() {
      return completion().topLogprobs() != SessionState.NO_LOGPROBS;
    }
  }
}
