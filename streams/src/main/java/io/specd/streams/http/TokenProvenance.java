package io.specd.streams.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.actors.TokenEvent;

/**
 * How streamed tokens were produced, as JSON: {@code tokens}, one {@code {"id", "depth"}} per token
 * (depth {@code k ≥ 1}: accepted from the draft at depth {@code k}; 0: the target's own token), and
 * {@code spans}, the text split by the token each part came from, {@code {"text", "depth"}}. The
 * WebSocket's token frames carry both fields; streamed OpenAI chunks carry them as {@code
 * speculative}. Clients that ignore them see the protocol unchanged.
 */
final class TokenProvenance {
  private TokenProvenance() {}

  /** Adds {@code tokens} and {@code spans} to a frame; returns it. */
  static ObjectNode write(ObjectNode frame, TokenEvent.Tokens event) {
    int[] ids = event.tokenIds();
    int[] depths = event.depths();
    ArrayNode tokens = frame.putArray("tokens");
    for (int i = 0; i < ids.length; i++) {
      tokens.addObject().put("id", ids[i]).put("depth", depths[i]);
    }
    ArrayNode spans = frame.putArray("spans");
    for (TokenEvent.Span span : event.spans()) {
      spans.addObject().put("text", span.text()).put("depth", span.depth());
    }
    return frame;
  }

  /** A streamed OpenAI chunk with the provenance of its text as {@code speculative}. */
  static ObjectNode attach(ObjectNode chunk, TokenEvent.Tokens event) {
    write(chunk.putObject("speculative"), event);
    return chunk;
  }
}
