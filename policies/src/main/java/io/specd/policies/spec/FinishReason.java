package io.specd.policies.spec;

/** Why a generation ended. */
public enum FinishReason {
  /** The model produced an end-of-generation token. */
  STOP_TOKEN,
  /** A stop string appeared in the output. */
  STOP_STRING,
  /** The requested number of tokens was generated. */
  MAX_TOKENS,
  /** The client cancelled or disconnected. */
  CANCELLED,
  /** The generation failed (see the accompanying error). */
  ERROR;

  /** The OpenAI {@code finish_reason} value. */
  public String openAiName() {
    return switch (this) {
      case STOP_TOKEN, STOP_STRING -> "stop";
      case MAX_TOKENS -> "length";
      case CANCELLED -> "cancelled";
      case ERROR -> "error";
    };
  }
}
