package io.specd.streams.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.sample.TokenLogprobs;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes one choice's log-probabilities in OpenAI's shapes, a chunk's or a whole choice's tokens at
 * a time. Text completions: {@code {"tokens", "token_logprobs", "top_logprobs": [{token: logprob}],
 * "text_offset"}}, the offsets counted from the start of the choice's text (after any echoed
 * prompt) and continued from call to call. Chat: {@code {"content": [{"token", "logprob", "bytes",
 * "top_logprobs": [{"token", "logprob", "bytes"}]}], "refusal": null}}. A token is written as the
 * text of its bytes, control tokens written out; a character split across tokens shows as U+FFFD in
 * each part's text, while chat's {@code bytes} keep each part's own bytes (as OpenAI's do), so a
 * client can join them. Not shared between choices.
 */
final class LogprobsWriter {
  private final ApiRequest.Kind kind;
  private final TextTokenizer tokenizer;
  private int textOffset;

  /**
   * @param kind completions or chat shapes
   * @param tokenizer turns token ids into their text
   * @param textOffset where the generated text starts in the choice's text
   */
  LogprobsWriter(ApiRequest.Kind kind, TextTokenizer tokenizer, int textOffset) {
    this.kind = kind;
    this.tokenizer = tokenizer;
    this.textOffset = textOffset;
  }

  /** The log-probabilities of the next tokens of the choice. */
  ObjectNode write(List<TokenLogprobs> scored) {
    return kind == ApiRequest.Kind.CHAT ? chat(scored) : completion(scored);
  }

  private ObjectNode completion(List<TokenLogprobs> scored) {
    ObjectNode logprobs = Json.object();
    ArrayNode tokens = logprobs.putArray("tokens");
    ArrayNode tokenLogprobs = logprobs.putArray("token_logprobs");
    ArrayNode top = logprobs.putArray("top_logprobs");
    ArrayNode offsets = logprobs.putArray("text_offset");
    for (TokenLogprobs token : scored) {
      String text = text(token.token());
      tokens.add(text);
      tokenLogprobs.add(token.logprob());
      ObjectNode alternatives = top.addObject();
      int[] ids = token.topTokens();
      float[] values = token.topLogprobs();
      for (int r = 0; r < ids.length; r++) {
        alternatives.put(text(ids[r]), values[r]);
      }
      offsets.add(textOffset);
      textOffset += text.length();
    }
    return logprobs;
  }

  private ObjectNode chat(List<TokenLogprobs> scored) {
    ObjectNode logprobs = Json.object();
    ArrayNode content = logprobs.putArray("content");
    for (TokenLogprobs token : scored) {
      ObjectNode entry = entry(content.addObject(), token.token(), token.logprob());
      ArrayNode top = entry.putArray("top_logprobs");
      int[] ids = token.topTokens();
      float[] values = token.topLogprobs();
      for (int r = 0; r < ids.length; r++) {
        entry(top.addObject(), ids[r], values[r]);
      }
    }
    logprobs.putNull("refusal");
    return logprobs;
  }

  private ObjectNode entry(ObjectNode entry, int token, float logprob) {
    entry.put("token", text(token));
    entry.put("logprob", logprob);
    ArrayNode bytes = entry.putArray("bytes");
    for (byte b : tokenizer.tokenBytes(token)) {
      bytes.add(b & 0xff);
    }
    return entry;
  }

  private String text(int token) {
    return new String(tokenizer.tokenBytes(token), StandardCharsets.UTF_8);
  }
}
