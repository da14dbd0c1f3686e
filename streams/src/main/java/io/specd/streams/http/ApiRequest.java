package io.specd.streams.http;

import io.specd.actors.PreparedRequest;

/**
 * A generation request as the HTTP API received it, read, checked and tokenized by {@link
 * RequestReader}.
 *
 * @param kind a text completion or a chat completion
 * @param prepared what the engine runs (for chat, the prompt is the rendered conversation)
 * @param stream whether the client asked for server-sent events
 */
public record ApiRequest(Kind kind, PreparedRequest prepared, boolean stream) {

  /** The two OpenAI generation endpoints. */
  public enum Kind {
    /** {@code /v1/completions}: a prompt string. */
    COMPLETION,
    /** {@code /v1/chat/completions}: messages rendered through the chat template. */
    CHAT
  }
}
