package io.specd.streams.http;

import akka.http.javadsl.model.StatusCodes;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.specd.actors.CompletionRequest;
import io.specd.actors.Engine;
import io.specd.kernels.sample.TokenLogprobs;
import io.specd.kernels.spec.SessionState;
import io.specd.kernels.tokenizer.TextPiece;
import io.specd.policies.spec.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads an OpenAI-shaped request body into an {@link ApiRequest}, checking every field: a problem
 * ends in an {@link ApiError} (HTTP 400, 404 for an unknown model) that names the field and the
 * allowed values. A prompt is checked by size ({@link PromptBudget}) before it is tokenized, and
 * tokenized once; tokenizing costs up to about a second per megabyte, so callers run {@link #read}
 * off the HTTP dispatcher. Defaults are OpenAI's: {@code max_tokens} 16 for completions and the
 * rest of the context for chat, {@code temperature} 1, {@code top_p} 1, {@code n} 1; {@code top_k}
 * 0 (off) and a random {@code seed}. Fields specd does not implement are refused when they ask for
 * something ({@link UnsupportedFields}); unknown fields are ignored. Thread-safe.
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
    checkModel(root);
    UnsupportedFields.check(root);
    int samples = samplesPerPrompt(root);
    List<PromptList.Prompt> prompts;
    List<String> stop = new ArrayList<>(stopStrings(root));
    Integer maxTokens;
    String maxTokensField = "max_tokens";
    if (kind == ApiRequest.Kind.CHAT) {
      prompts = List.of(PromptList.Prompt.text(renderChat(root)));
      stop.addAll(chatTemplate.stopStrings());
      if (root.hasNonNull("max_completion_tokens")) { // the newer name wins
        maxTokensField = "max_completion_tokens";
      }
      maxTokens = optionalInt(root, maxTokensField);
    } else {
      prompts = PromptList.read(root.get("prompt"));
      maxTokens = optionalInt(root, "max_tokens");
    }
    if (prompts.size() * samples > limits.choices()) {
      throw ApiError.invalid(
          "n",
          "invalid_value",
          prompts.size()
              + " prompts times n = "
              + samples
              + " asks for more than "
              + limits.choices()
              + " choices (specd.http.limits.choices)");
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
    boolean includeUsage = includeUsage(root, stream);
    int topLogprobs = topLogprobs(root, kind);
    boolean echo = echo(root, kind, topLogprobs);
    List<ApiRequest.Choice> choices = new ArrayList<>();
    String promptField = kind == ApiRequest.Kind.CHAT ? "messages" : "prompt";
    for (PromptList.Prompt prompt : prompts) {
      if (prompt.tokens() == null) {
        promptBudget.check(prompt.pieces(), promptField);
      }
      int[] promptIds = promptIds(prompt, promptField);
      int tokens =
          maxTokens != null
              ? maxTokens
              : kind == ApiRequest.Kind.CHAT
                  ? Math.max(1, engine.contextLength() - promptIds.length)
                  : DEFAULT_COMPLETION_TOKENS;
      try {
        engine.checkFits(promptIds.length, tokens);
      } catch (IllegalArgumentException e) {
        throw ApiError.invalid(maxTokensField, "context_length_exceeded", e.getMessage());
      }
      String echoed = echo ? prompt.text(engine.model().tokenizer()) : "";
      for (int sample = 0; sample < samples; sample++) {
        int index = choices.size();
        CompletionRequest completion =
            completion(prompt, tokens, sampling, stop, policy, topLogprobs, index);
        choices.add(new ApiRequest.Choice(index, engine.prepare(completion, promptIds), echoed));
      }
    }
    return new ApiRequest(kind, choices, samples, stream, includeUsage);
  }

  /** Refuses a model other than the one served: 404 {@code model_not_found}, as OpenAI answers. */
  private void checkModel(JsonNode root) {
    String model = optionalString(root, "model");
    if (model != null && !model.equals(modelId)) {
      throw new ApiError(
          StatusCodes.NOT_FOUND,
          "invalid_request_error",
          "the model '" + model + "' does not exist; this server serves '" + modelId + "'",
          "model",
          "model_not_found");
    }
  }

  /** {@code n}: how many choices sample each prompt. */
  private int samplesPerPrompt(JsonNode root) {
    Integer n = optionalInt(root, "n");
    if (n != null && (n < 1 || n > limits.choices())) {
      throw ApiError.invalid(
          "n",
          "invalid_value",
          "n must be in [1, " + limits.choices() + "] (specd.http.limits.choices), got " + n);
    }
    return n == null ? 1 : n;
  }

  /** {@code echo} (completions only): without logprobs, since prompt tokens are not scored. */
  private static boolean echo(JsonNode root, ApiRequest.Kind kind, int topLogprobs) {
    boolean echo = kind == ApiRequest.Kind.COMPLETION && optionalBoolean(root, "echo");
    if (echo && topLogprobs != SessionState.NO_LOGPROBS) {
      throw ApiError.invalid(
          "echo",
          "unsupported_value",
          "echo with logprobs is not supported: the prompt's tokens are not scored");
    }
    return echo;
  }

  /** A choice's generation; choice {@code index} samples with {@code seed + index}. */
  private static CompletionRequest completion(
      PromptList.Prompt prompt,
      int maxTokens,
      SamplingParams sampling,
      List<String> stop,
      String policy,
      int topLogprobs,
      int index) {
    SamplingParams own =
        new SamplingParams(
            sampling.temperature(), sampling.topK(), sampling.topP(), sampling.seed() + index);
    try {
      return new CompletionRequest(
          prompt.pieces(), prompt.tokens(), maxTokens, own, stop, policy, topLogprobs);
    } catch (IllegalArgumentException e) {
      throw ApiError.invalid(null, "invalid_value", e.getMessage());
    }
  }

  /** The prompt's token ids, tokenized once; given ids must be in the vocabulary. */
  private int[] promptIds(PromptList.Prompt prompt, String field) {
    try {
      return CompletionRequest.promptIds(
          prompt.pieces(), prompt.tokens(), engine.model().tokenizer());
    } catch (IllegalArgumentException e) {
      throw ApiError.invalid(field, "invalid_value", e.getMessage());
    }
  }

  /**
   * {@code stream_options.include_usage}: whether a stream ends with a usage chunk. Stream options
   * without {@code stream} are refused, as OpenAI and vLLM do.
   */
  private static boolean includeUsage(JsonNode root, boolean stream) {
    JsonNode options = root.get("stream_options");
    if (options == null || options.isNull()) {
      return false;
    }
    if (!options.isObject()) {
      throw ApiError.invalid(
          "stream_options", "invalid_type", "stream_options must be an object {include_usage}");
    }
    if (!stream) {
      throw ApiError.invalid(
          "stream_options", "invalid_value", "stream_options is only allowed with stream: true");
    }
    return optionalBoolean(options, "include_usage");
  }

  /**
   * How many top tokens to list with each token's log-probability: completions' {@code logprobs}
   * (an integer), chat's {@code top_logprobs} once {@code logprobs} is true.
   */
  private static int topLogprobs(JsonNode root, ApiRequest.Kind kind) {
    String field = kind == ApiRequest.Kind.CHAT ? "top_logprobs" : "logprobs";
    Integer top = optionalInt(root, field);
    if (kind == ApiRequest.Kind.CHAT) {
      boolean wanted = optionalBoolean(root, "logprobs");
      if (!wanted && top != null) {
        throw ApiError.invalid(
            "top_logprobs", "invalid_value", "top_logprobs needs logprobs: true");
      }
      if (!wanted) {
        return SessionState.NO_LOGPROBS;
      }
    } else if (top == null) {
      return SessionState.NO_LOGPROBS;
    }
    int count = top == null ? 0 : top;
    if (count < 0 || count > TokenLogprobs.MAX_TOP) {
      throw ApiError.invalid(
          field,
          "invalid_value",
          field + " must be in [0, " + TokenLogprobs.MAX_TOP + "], got " + count);
    }
    return count;
  }

  private List<TextPiece> renderChat(JsonNode root) {
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
      return chatTemplate.renderPieces(turns);
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

  private SamplingParams sampling(JsonNode root) {
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
    if (topK != null && (topK < 0 || topK > limits.topK())) {
      throw ApiError.invalid(
          "top_k",
          "invalid_value",
          "top_k must be in [0, "
              + limits.topK()
              + "] (0 turns it off; specd.http.limits.top-k), got "
              + topK);
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
