package io.specd.streams.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.specd.kernels.tokenizer.TextPiece;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * The prompts of a text completion request. OpenAI's {@code prompt} is a string, an array of
 * strings, an array of token ids or an array of arrays of token ids; each string or id array is one
 * prompt, answered by its own choices. Strings are tokenized as llama.cpp does (BOS added, special
 * tokens parsed); token ids are used as given.
 */
final class PromptList {
  private static final String SHAPES =
      "prompt must be a string, an array of strings, an array of token ids or an array of arrays"
          + " of token ids";

  private PromptList() {}

  /**
   * One prompt.
   *
   * @param pieces the prompt text (empty for token ids)
   * @param tokens the prompt's token ids (not yet checked against the vocabulary), or null for text
   */
  record Prompt(List<TextPiece> pieces, int[] tokens) {

    /** A prompt given as text. */
    static Prompt text(List<TextPiece> pieces) {
      return new Prompt(pieces, null);
    }

    /** The prompt as text (what {@code echo} repeats); token ids must be in the vocabulary. */
    String text(TextTokenizer tokenizer) {
      if (tokens != null) {
        return tokenizer.decode(tokens);
      }
      StringBuilder text = new StringBuilder();
      pieces.forEach(piece -> text.append(piece.text()));
      return text.toString();
    }
  }

  /**
   * Reads the {@code prompt} field.
   *
   * @throws ApiError naming the shape OpenAI allows, for anything else or an empty array
   */
  static List<Prompt> read(JsonNode prompt) {
    if (prompt == null || prompt.isNull()) {
      throw ApiError.invalid("prompt", "missing_field", "prompt is required: " + SHAPES);
    }
    if (prompt.isTextual()) {
      return List.of(text(prompt));
    }
    if (!prompt.isArray() || prompt.isEmpty()) {
      throw ApiError.invalid("prompt", "invalid_type", SHAPES + " (not empty)");
    }
    JsonNode first = prompt.get(0);
    if (first.isIntegralNumber()) {
      return List.of(tokens(prompt));
    }
    List<Prompt> prompts = new ArrayList<>();
    for (JsonNode element : prompt) {
      if (element.isTextual() && first.isTextual()) {
        prompts.add(text(element));
      } else if (element.isArray() && first.isArray()) {
        prompts.add(tokens(element));
      } else {
        throw ApiError.invalid("prompt", "invalid_type", SHAPES + ", not a mix");
      }
    }
    return prompts;
  }

  private static Prompt text(JsonNode text) {
    return Prompt.text(List.of(TextPiece.parsed(text.asText())));
  }

  private static Prompt tokens(JsonNode ids) {
    if (ids.isEmpty()) {
      throw ApiError.invalid("prompt", "invalid_value", "a prompt of token ids must not be empty");
    }
    int[] tokens = new int[ids.size()];
    for (int i = 0; i < tokens.length; i++) {
      JsonNode id = ids.get(i);
      if (!id.isIntegralNumber() || !id.canConvertToInt()) {
        throw ApiError.invalid("prompt", "invalid_type", SHAPES + "; got " + id + " as a token id");
      }
      tokens[i] = id.intValue();
    }
    return new Prompt(List.of(), tokens);
  }
}
