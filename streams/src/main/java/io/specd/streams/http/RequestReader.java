package io.specd.streams.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.specd.actors.CompletionRequest;
import io.specd.actors.Engine;
import io.specd.policies.spec.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads an OpenAI-shaped request body into an {@link ApiRequest}, checking every field: a problem
 * ends in an {@link ApiError} (HTTP 400) that names the field and the allowed values. A prompt is
 * checked by size ({@link PromptBudget}) before it is tokenized; tokenizing costs up to about a
 * second per megabyte, so callers run {@link #read} off the HTTP dispatcher. Defaults are OpenAI's:
 * {@code max_tokens} 16 for completions and the rest of the context for chat, {@code temperature}
 * 1, {@code top_p} 1; {@code top_k} 0 (off) and a random {@code seed}. Unknown fields are ignored.
 * Thread-safe.
 */
public final class RequestReader {
  /** OpenAI's default {@code max_tokens} for text completions. */
  static final int DEFAULT_COMPLETION_TOKENS = 16;

  private static final double MAX_TEMPERATURE = 2.0;
  private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");

  private final Engine engine;
  private final String modelId;
  private final ChatTemplate chatTemplate;
  private final PromptBudget promptBudget;
  private final RequestLimits limits;

  /**
   * @param engine checks policies and context fit, and tokenizes prompts
   * @param modelId the one model a request may name
   * @param chatTemplate renders chat messages
   * @param limits what one request may ask for
   */
  public RequestReader(
      Engine engine, String modelId, ChatTemplate chatTemplate, RequestLimits limits) {
    this.engine = engine;
    this.modelId = modelId;
    this.chatTemplate = chatTemplate;
    this.limits = limits;
    this.promptBudget =
        new PromptBudget(limits.promptBytes(), engine.contextLength(), engine.model().tokenizer());
  }

  /**
   * Reads a request body.
   *
   * @throws ApiError for malformed JSON or any bad field
   */
  public ApiRequest read(String body, ApiRequest.Kind kind) {
    return read(parse(body), kind);
  }

  /**
   * Parses a request body.
   *
   * @return a JSON object
   * @throws ApiError for malformed JSON or anything but an object
   */
  public static JsonNode parse(String body) {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw ApiError.invalid(
          null, "invalid_json", "the request body is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw ApiError.invalid(null, "invalid_json", "the request body must be a JSON object");
    }
    return root;
  }

  /**
   * Reads a parsed request.
   *
   * @throws ApiError for any bad field
   */
  public ApiRequest read(JsonNode root, ApiRequest.Kind kind) {
    String model = optionalString(root, "model");
    if (model != null && !model.equals(modelId)) {
      throw ApiError.invalid(
          "model",
          "model_not_found",
          "model '" + model + "' is not served here; this server serves '" + modelId + "'");
    }
    Integer n = optionalInt(root, "n");
    if (n != null && n != 1) {
      throw ApiError.invalid(
          "n", "invalid_value", "n must be 1 (one choice per request), got " + n);
    }
    String prompt;
    List<String> stop = new ArrayList<>(stopStrings(root));
    Integer maxTokens;
    String maxTokensField = "max_tokens";
    if (kind == ApiRequest.Kind.CHAT) {
      prompt = renderChat(root);
      stop.addAll(chatTemplate.stopStrings());
      if (root.hasNonNull("max_completion_tokens")) { // the newer name wins
        maxTokensField = "max_completion_tokens";
      }
      maxTokens = optionalInt(root, maxTokensField);
    } else {
      if (!root.hasNonNull("prompt")) {
        throw ApiError.invalid("prompt", "missing_field", "prompt is required (a string)");
      }
      prompt = optionalString(root, "prompt");
      maxTokens = optionalInt(root, "max_tokens");
    }
    if (maxTokens != null && maxTokens < 1) {
      throw ApiError.invalid(
          maxTokensField,
          "invalid_value",
          maxTokensField + " must be at least 1, got " + maxTokens);
    }
    SamplingParams sampling = sampling(root);
    String policy = optionalString(root, "policy");
    if (policy != null) {
      try {
        engine.checkPolicy(policy);
      } catch (IllegalArgumentException e) {
        throw ApiError.invalid("policy", "unknown_policy", e.getMessage());
      }
    }
    boolean stream = optionalBoolean(root, "stream");
    promptBudget.check(prompt, kind == ApiRequest.Kind.CHAT ? "messages" : "prompt");
    int[] promptTokens = engine.model().tokenizer().encodePrompt(prompt);
    int tokens =
        maxTokens != null
            ? maxTokens
            : kind == ApiRequest.Kind.CHAT
                ? Math.max(1, engine.contextLength() - promptTokens.length)
                : DEFAULT_COMPLETION_TOKENS;
    try {
      engine.checkFits(promptTokens.length, tokens);
    } catch (IllegalArgumentException e) {
      throw ApiError.invalid(maxTokensField, "context_length_exceeded", e.getMessage());
    }
    CompletionRequest completion;
    try {
      completion = new CompletionRequest(prompt, tokens, sampling, stop, policy);
    } catch (IllegalArgumentException e) {
      throw ApiError.invalid(null, "invalid_value", e.getMessage());
    }
    return new ApiRequest(kind, engine.prepare(completion, promptTokens), stream);
  }

  private String renderChat(JsonNode root) {
    JsonNode messages = root.get("messages");
    if (messages == null || messages.isNull()) {
      throw ApiError.invalid(
          "messages", "missing_field", "messages is required (an array of {role, content})");
    }
    if (!messages.isArray() || messages.isEmpty()) {
      throw ApiError.invalid(
          "messages", "invalid_type", "messages must be a non-empty array of {role, content}");
    }
    List<ChatTemplate.ChatMessage> turns = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      JsonNode message = messages.get(i);
      String field = "messages[" + i + "]";
      if (!message.isObject()) {
        throw ApiError.invalid(field, "invalid_type", field + " must be an object {role, content}");
      }
      JsonNode role = message.get("role");
      if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
        throw ApiError.invalid(
            field + ".role",
            "invalid_value",
            field + ".role must be one of system, developer, user, assistant");
      }
      turns.add(
          new ChatTemplate.ChatMessage(role.asText(), content(message.get("content"), field)));
    }
    try {
      return chatTemplate.render(turns);
    } catch (IllegalArgumentException e) {
      throw ApiError.invalid("messages", "invalid_value", e.getMessage());
    }
  }

  /** A message's text: a string, or an array of {@code {"type": "text", "text": …}} parts. */
  private static String content(JsonNode content, String field) {
    if (content != null && content.isTextual()) {
      return content.asText();
    }
    if (content != null && content.isArray()) {
      StringBuilder text = new StringBuilder();
      for (JsonNode part : content) {
        JsonNode partText = part.get("text");
        if (!"text".equals(part.path("type").asText())
            || partText == null
            || !partText.isTextual()) {
          throw ApiError.invalid(
              field + ".content",
              "invalid_type",
              field + ".content parts must be {\"type\": \"text\", \"text\": string}");
        }
        text.append(partText.asText());
      }
      return text.toString();
    }
    throw ApiError.invalid(field + ".content", "invalid_type", field + ".content must be a string");
  }

  private static SamplingParams sampling(JsonNode root) {
    Double temperature = optionalNumber(root, "temperature");
    if (temperature != null && !(temperature >= 0 && temperature <= MAX_TEMPERATURE)) {
      throw ApiError.invalid(
          "temperature",
          "invalid_value",
          "temperature must be in [0, 2] (0 is greedy), got " + temperature);
    }
    Double topP = optionalNumber(root, "top_p");
    if (topP != null && !(topP > 0 && topP <= 1)) {
      throw ApiError.invalid("top_p", "invalid_value", "top_p must be in (0, 1], got " + topP);
    }
    Integer topK = optionalInt(root, "top_k");
    if (topK != null && topK < 0) {
      throw ApiError.invalid(
          "top_k", "invalid_value", "top_k must be >= 0 (0 turns it off), got " + topK);
    }
    Long seed = optionalLong(root, "seed");
    return new SamplingParams(
        temperature == null ? 1.0 : temperature,
        topK == null ? 0 : topK,
        topP == null ? 1.0 : topP,
        seed == null ? ThreadLocalRandom.current().nextLong() : seed);
  }

  private List<String> stopStrings(JsonNode root) {
    JsonNode stop = root.get("stop");
    if (stop == null || stop.isNull()) {
      return List.of();
    }
    List<String> strings = new ArrayList<>();
    if (stop.isTextual()) {
      strings.add(stop.asText());
    } else if (stop.isArray()) {
      for (JsonNode s : stop) {
        if (!s.isTextual()) {
          throw ApiError.invalid(
              "stop", "invalid_type", "stop must be a string or an array of strings");
        }
        strings.add(s.asText());
      }
    } else {
      throw ApiError.invalid(
          "stop", "invalid_type", "stop must be a string or an array of strings");
    }
    if (strings.stream().anyMatch(String::isEmpty)) {
      throw ApiError.invalid("stop", "invalid_value", "stop strings must not be empty");
    }
    if (strings.size() > limits.stopStrings()) {
      throw ApiError.invalid(
          "stop",
          "invalid_value",
          "at most " + limits.stopStrings() + " stop strings, got " + strings.size());
    }
    if (strings.stream().anyMatch(s -> s.length() > limits.stopLength())) {
      throw ApiError.invalid(
          "stop",
          "invalid_value",
          "stop strings may be at most " + limits.stopLength() + " characters long");
    }
    return strings;
  }

  private static String optionalString(JsonNode root, String field) {
    JsonNode value = root.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      throw ApiError.invalid(
          field, "invalid_type", field + " must be a string, got " + describe(value));
    }
    return value.asText();
  }

  private static Integer optionalInt(JsonNode root, String field) {
    JsonNode value = root.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isIntegralNumber() || !value.canConvertToInt()) {
      throw ApiError.invalid(
          field, "invalid_type", field + " must be an integer, got " + describe(value));
    }
    return value.intValue();
  }

  private static Long optionalLong(JsonNode root, String field) {
    JsonNode value = root.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw ApiError.invalid(
          field, "invalid_type", field + " must be a 64-bit integer, got " + describe(value));
    }
    return value.longValue();
  }

  private static Double optionalNumber(JsonNode root, String field) {
    JsonNode value = root.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isNumber()) {
      throw ApiError.invalid(
          field, "invalid_type", field + " must be a number, got " + describe(value));
    }
    return value.doubleValue();
  }

  private static boolean optionalBoolean(JsonNode root, String field) {
    JsonNode value = root.get(field);
    if (value == null || value.isNull()) {
      return false;
    }
    if (!value.isBoolean()) {
      throw ApiError.invalid(
          field, "invalid_type", field + " must be true or false, got " + describe(value));
    }
    return value.booleanValue();
  }

  private static String describe(JsonNode value) {
    String text = value.toString();
    return text.length() > 40 ? text.substring(0, 40) + "…" : text;
  }
}
