package io.specd.streams.http;

import akka.http.javadsl.model.StatusCodes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.actors.TokenEvent;
import io.specd.actors.Usage;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Writes the OpenAI objects of one response: the whole completion ({@code text_completion} or
 * {@code chat.completion}), or its stream of chunks ({@code text_completion} or {@code
 * chat.completion.chunk}): each choice's text chunks and finish chunk, then, when asked, a usage
 * chunk. Every object of a response carries the same id and creation time.
 *
 * <p>Extensions: each choice's speculative statistics ride its finish as {@code speculative} (the
 * whole response's choice, or the streamed finish chunk's choice), and {@code usage.speculative}
 * repeats them when the response has one choice. Not shared between requests.
 */
final class OpenAiResponses {
  private final ApiRequest.Kind kind;
  private final String id;
  private final long created;
  private final String model;

  OpenAiResponses(ApiRequest.Kind kind, String model) {
    this.kind = kind;
    String random = UUID.randomUUID().toString().replace("-", "");
    this.id = (kind == ApiRequest.Kind.CHAT ? "chatcmpl-" : "cmpl-") + random;
    this.created = Instant.now().getEpochSecond();
    this.model = model;
  }

  /**
   * How one choice of a whole response ended.
   *
   * @param index the choice's index
   * @param text its text (after any echoed prompt)
   * @param logprobs its log-probabilities, or null when not asked for
   * @param finished why it ended, and its usage
   */
  record Outcome(int index, String text, JsonNode logprobs, TokenEvent.Finished finished) {}

  /**
   * The whole completion, for a request that did not ask to stream.
   *
   * @param choices each choice's outcome, by index
   * @param usage the request's usage ({@link #usage(List, int)})
   */
  ObjectNode completion(List<Outcome> choices, ObjectNode usage) {
    ObjectNode root = header(kind == ApiRequest.Kind.CHAT ? "chat.completion" : "text_completion");
    ArrayNode array = root.putArray("choices");
    for (Outcome outcome : choices) {
      ObjectNode choice = array.addObject();
      choice.put("index", outcome.index());
      if (kind == ApiRequest.Kind.CHAT) {
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", outcome.text());
        message.putNull("refusal");
      } else {
        choice.put("text", outcome.text());
      }
      choice.set("logprobs", outcome.logprobs());
      choice.put("finish_reason", outcome.finished().reason().openAiName());
      choice.set("speculative", speculative(outcome.finished().usage()));
    }
    root.set("usage", usage);
    return root;
  }

  /** The chunk that opens a choice of a chat stream (the assistant's role), or null otherwise. */
  ObjectNode opening(int index) {
    if (kind != ApiRequest.Kind.CHAT) {
      return null;
    }
    ObjectNode chunk = chunk();
    ObjectNode choice = choice(chunk, index, null);
    choice.putObject("delta").put("role", "assistant").put("content", "");
    choice.putNull("finish_reason");
    return chunk;
  }

  /** A chunk of a choice's text, with its tokens' log-probabilities (null when not asked for). */
  ObjectNode text(int index, String text, JsonNode logprobs) {
    ObjectNode chunk = chunk();
    ObjectNode choice = choice(chunk, index, logprobs);
    if (kind == ApiRequest.Kind.CHAT) {
      choice.putObject("delta").put("content", text);
    } else {
      choice.put("text", text);
    }
    choice.putNull("finish_reason");
    return chunk;
  }

  /** The chunk that says why a choice ended, with its speculative statistics. */
  ObjectNode finish(int index, TokenEvent.Finished finished) {
    ObjectNode chunk = chunk();
    ObjectNode choice = choice(chunk, index, null);
    if (kind == ApiRequest.Kind.CHAT) {
      choice.putObject("delta");
    } else {
      choice.put("text", "");
    }
    choice.put("finish_reason", finished.reason().openAiName());
    choice.set("speculative", speculative(finished.usage()));
    return chunk;
  }

  /** The last chunk when asked for ({@code include_usage}): no choices, the request's usage. */
  ObjectNode usageChunk(ObjectNode usage) {
    ObjectNode chunk = chunk();
    chunk.putArray("choices");
    chunk.set("usage", usage);
    return chunk;
  }

  /**
   * A request's usage: prompt tokens counted once per prompt (choices {@code 0, n, 2n, …} start the
   * prompts), completion tokens over every choice; {@code speculative} when there is one choice.
   *
   * @param usages each choice's usage, by index
   * @param n samples per prompt
   */
  static ObjectNode usage(List<Usage> usages, int n) {
    if (usages.size() == 1) {
      return usage(usages.get(0));
    }
    int prompt = 0;
    int completion = 0;
    for (int i = 0; i < usages.size(); i++) {
      prompt += i % n == 0 ? usages.get(i).promptTokens() : 0;
      completion += usages.get(i).completionTokens();
    }
    return counts(prompt, completion);
  }

  /** One generation's usage, with its speculative statistics as {@code speculative}. */
  static ObjectNode usage(Usage usage) {
    ObjectNode node = counts(usage.promptTokens(), usage.completionTokens());
    node.set("speculative", speculative(usage));
    return node;
  }

  private static ObjectNode counts(int prompt, int completion) {
    ObjectNode node = Json.object();
    node.put("prompt_tokens", prompt);
    node.put("completion_tokens", completion);
    node.put("total_tokens", prompt + completion);
    return node;
  }

  /** specd's speculative statistics of one generation: drafter, policy and {@link StatsJson}. */
  static ObjectNode speculative(Usage usage) {
    ObjectNode speculative = Json.object();
    speculative.put("drafter", usage.drafter());
    speculative.put("policy", usage.policy());
    StatsJson.write(usage.stats(), speculative);
    return speculative;
  }

  /** OpenAI's error body: {@code {"error": {"message", "type", "param", "code"}}}. */
  static ObjectNode error(ApiError error) {
    ObjectNode root = Json.object();
    ObjectNode body = root.putObject("error");
    body.put("message", error.getMessage());
    body.put("type", error.type());
    body.put("param", error.param());
    body.put("code", error.code());
    return root;
  }

  /** The error body of a generation that failed. */
  static ObjectNode failed(TokenEvent.Failed failed) {
    return error(
        new ApiError(
            StatusCodes.INTERNAL_SERVER_ERROR,
            "server_error",
            "the generation failed: " + failed.message(),
            null,
            "generation_failed"));
  }

  private ObjectNode chunk() {
    return header(kind == ApiRequest.Kind.CHAT ? "chat.completion.chunk" : "text_completion");
  }

  private static ObjectNode choice(ObjectNode chunk, int index, JsonNode logprobs) {
    ObjectNode choice = chunk.putArray("choices").addObject();
    choice.put("index", index);
    choice.set("logprobs", logprobs);
    return choice;
  }

  private ObjectNode header(String object) {
    ObjectNode root = Json.object();
    root.put("id", id);
    root.put("object", object);
    root.put("created", created);
    root.put("model", model);
    return root;
  }
}
