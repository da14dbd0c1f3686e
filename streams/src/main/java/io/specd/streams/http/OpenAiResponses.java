package io.specd.streams.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.actors.Usage;
import io.specd.policies.spec.FinishReason;
import java.time.Instant;
import java.util.UUID;

/**
 * Writes the OpenAI objects of one response: the whole completion ({@code text_completion} or
 * {@code chat.completion}), or its stream of chunks ({@code text_completion} or {@code
 * chat.completion.chunk}) ending with a finish chunk and a usage chunk. Every object of a response
 * carries the same id and creation time. Usage carries specd's speculative statistics under {@code
 * usage.speculative}. Not shared between requests.
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

  /** The whole completion, for a request that did not ask to stream. */
  ObjectNode completion(String text, FinishReason reason, Usage usage) {
    ObjectNode root = header(kind == ApiRequest.Kind.CHAT ? "chat.completion" : "text_completion");
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    if (kind == ApiRequest.Kind.CHAT) {
      ObjectNode message = choice.putObject("message");
      message.put("role", "assistant");
      message.put("content", text);
      message.putNull("refusal");
    } else {
      choice.put("text", text);
    }
    choice.putNull("logprobs");
    choice.put("finish_reason", reason.openAiName());
    root.set("usage", usage(usage));
    return root;
  }

  /** The chunk that opens a chat stream (the assistant's role), or null for completions. */
  ObjectNode opening() {
    if (kind != ApiRequest.Kind.CHAT) {
      return null;
    }
    ObjectNode chunk = chunk();
    ObjectNode choice = choice(chunk);
    choice.putObject("delta").put("role", "assistant").put("content", "");
    choice.putNull("finish_reason");
    return chunk;
  }

  /** A chunk of generated text. */
  ObjectNode text(String text) {
    ObjectNode chunk = chunk();
    ObjectNode choice = choice(chunk);
    if (kind == ApiRequest.Kind.CHAT) {
      choice.putObject("delta").put("content", text);
    } else {
      choice.put("text", text);
    }
    choice.putNull("finish_reason");
    return chunk;
  }

  /** The chunk that says why the generation ended. */
  ObjectNode finish(FinishReason reason) {
    ObjectNode chunk = chunk();
    ObjectNode choice = choice(chunk);
    if (kind == ApiRequest.Kind.CHAT) {
      choice.putObject("delta");
    } else {
      choice.put("text", "");
    }
    choice.put("finish_reason", reason.openAiName());
    return chunk;
  }

  /** The last chunk: no choices, the request's usage (as OpenAI's {@code include_usage}). */
  ObjectNode usageChunk(Usage usage) {
    ObjectNode chunk = chunk();
    chunk.putArray("choices");
    chunk.set("usage", usage(usage));
    return chunk;
  }

  /**
   * OpenAI's usage plus {@code speculative}: drafter, policy and the request's statistics ({@link
   * StatsJson}).
   */
  static ObjectNode usage(Usage usage) {
    ObjectNode node = Json.object();
    node.put("prompt_tokens", usage.promptTokens());
    node.put("completion_tokens", usage.completionTokens());
    node.put("total_tokens", usage.promptTokens() + usage.completionTokens());
    ObjectNode speculative = node.putObject("speculative");
    speculative.put("drafter", usage.drafter());
    speculative.put("policy", usage.policy());
    StatsJson.write(usage.stats(), speculative);
    return node;
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

  private ObjectNode chunk() {
    return header(kind == ApiRequest.Kind.CHAT ? "chat.completion.chunk" : "text_completion");
  }

  private static ObjectNode choice(ObjectNode chunk) {
    ObjectNode choice = chunk.putArray("choices").addObject();
    choice.put("index", 0);
    choice.putNull("logprobs");
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
