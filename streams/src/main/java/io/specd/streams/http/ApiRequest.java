package io.specd.streams.http;

import io.specd.actors.CompletionRequest;

/**
 * A generation request as the HTTP API received it, read and checked by {@link RequestReader}.
 *
 * @param kind a text completion or a chat completion
 * @param completion what the engine runs (for chat, the prompt is the rendered conversation)
 * @param promptTokens the prompt's length in tokens
 * @param stream whether the client asked for server-sent events
 */
public record ApiRequest(
    Kind kind, CompletionRequest completion, int promptTokens, boolean stream) {

  /** The two OpenAI generation endpoints. */
  public enum Kind {
    /** {@code /v1/completions}: a prompt string. */
    COMPLETION,
    /** {@code /v1/chat/completions}: messages rendered through the chat template. */
    CHAT
  }
}
