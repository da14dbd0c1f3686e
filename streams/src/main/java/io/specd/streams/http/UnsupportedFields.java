package io.specd.streams.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.function.Predicate;

/**
 * The OpenAI request fields specd does not implement. Each is accepted at its neutral value
 * (absent, null, zero, empty, {@code "text"}, {@code "none"}), so that clients which always send
 * them keep working, and refused with a 400 {@code unsupported_parameter} as soon as it asks for
 * something, rather than silently ignored. The README's field table lists them.
 */
final class UnsupportedFields {
  private static final List<Field> FIELDS =
      List.of(
          new Field("suffix", v -> !v.asText().isEmpty(), "text after the insertion point"),
          new Field("best_of", v -> v.asInt() != 1, "server-side best-of sampling"),
          new Field("logit_bias", v -> !v.isEmpty(), "logit biases"),
          new Field("frequency_penalty", v -> v.asDouble() != 0, "frequency penalties"),
          new Field("presence_penalty", v -> v.asDouble() != 0, "presence penalties"),
          new Field("tools", v -> !v.isEmpty(), "tool calls"),
          new Field("functions", v -> !v.isEmpty(), "function calls"),
          new Field("tool_choice", UnsupportedFields::choosesSomething, "tool calls"),
          new Field("function_call", UnsupportedFields::choosesSomething, "function calls"),
          new Field(
              "response_format",
              v -> !v.path("type").asText().equals("text"),
              "structured output (only {\"type\": \"text\"})"),
          new Field(
              "modalities",
              v -> !(v.size() == 1 && v.get(0).asText().equals("text")),
              "output other than text"),
          new Field("audio", v -> true, "audio output"),
          new Field("prediction", v -> true, "predicted outputs"),
          new Field("web_search_options", v -> true, "web search"));

  private UnsupportedFields() {}

  /** A {@code tool_choice} or {@code function_call} other than {@code "none"} or {@code "auto"}. */
  private static boolean choosesSomething(JsonNode choice) {
    return !(choice.asText().equals("none") || choice.asText().equals("auto"));
  }

  /** What specd leaves out: a field and when its value asks for it. */
  private record Field(String name, Predicate<JsonNode> asksForSomething, String feature) {}

  /**
   * Refuses a request that asks for a feature specd does not have.
   *
   * @throws ApiError naming the field and the feature
   */
  static void check(JsonNode root) {
    for (Field field : FIELDS) {
      JsonNode value = root.get(field.name());
      if (value != null && !value.isNull() && field.asksForSomething().test(value)) {
        throw ApiError.invalid(
            field.name(),
            "unsupported_parameter",
            field.name() + " is not supported: specd has no " + field.feature());
      }
    }
  }
}
