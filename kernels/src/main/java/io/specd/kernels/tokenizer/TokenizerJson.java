package io.specd.kernels.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.specd.kernels.format.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a Hugging Face {@code tokenizer.json} into the tokenizer llama.cpp makes of it when it
 * converts the model to GGUF, so that a Hugging Face directory and the GGUF file of the same model
 * give the same ids:
 *
 * <ul>
 *   <li>BPE with byte fallback (Llama 2, Mistral, TinyLlama…) becomes the SentencePiece-style
 *       tokenizer; its vocabulary is written with one score for every token, as llama.cpp's
 *       converter does, so merges go leftmost first (for some words this is not the tokenization of
 *       the {@code tokenizers} library, which merges by rank);
 *   <li>byte-level BPE (Llama 3, Qwen 2, GPT-2) becomes {@link ByteLevelBpeTokenizer} with the
 *       merges of the file and the pre-tokenizer its {@code Split} expression names.
 * </ul>
 *
 * Added tokens marked {@code special} are control tokens (recognised only where a {@link TextPiece}
 * asks for it), the other added tokens user-defined ones.
 */
public final class TokenizerJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TokenizerJson() {}

  /**
   * Reads {@code tokenizer.json}.
   *
   * @param file the file
   * @param bosId the model's BOS ({@code config.json})
   * @param eosId the model's EOS
   * @throws ModelFormatException if the file is missing, unreadable or of a kind specd does not
   *     read
   */
  public static TextTokenizer read(Path file, int bosId, int eosId) {
    if (!Files.isRegularFile(file)) {
      throw new ModelFormatException(file, "no tokenizer.json next to the model");
    }
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new ModelFormatException(file, "cannot read the tokenizer: " + e.getMessage(), e);
    }
    JsonNode model = root.path("model");
    if (!"BPE".equals(model.path("type").asText())) {
      throw new ModelFormatException(
          file,
          "tokenizer model '"
              + model.path("type").asText()
              + "' is not supported; specd reads BPE (with byte fallback, or byte-level)");
    }
    boolean byteLevel = mentionsType(root.path("pre_tokenizer"), "ByteLevel");
    boolean byteFallback = model.path("byte_fallback").asBoolean(false);
    if (!byteLevel && !byteFallback) {
      throw new ModelFormatException(
          file, "a BPE tokenizer.json needs byte fallback or a byte-level pre-tokenizer");
    }
    Vocabulary vocabulary = Vocabulary.read(root, byteFallback, file);
    if (byteLevel) {
      PreTokenizer preTokenizer = PreTokenizer.forHuggingFace(splitExpression(root), file);
      return new ByteLevelBpeTokenizer(
          vocabulary.tokens(),
          vocabulary.types(),
          merges(model.path("merges")),
          vocabulary.specials(bosId, eosId, preTokenizer.addBos(), file),
          preTokenizer);
    }
    int size = vocabulary.tokens().size();
    String unknown = model.path("unk_token").asText("");
    int unknownId = Math.max(0, vocabulary.tokens().indexOf(unknown));
    return new SentencePieceTokenizer(
        vocabulary.tokens(),
        new float[size], // one score for all, as llama.cpp's converter writes
        vocabulary.types(),
        vocabulary.specials(bosId, eosId, true, file),
        unknownId,
        true);
  }

  /** The tokens by id and their GGUF types. */
  private record Vocabulary(List<String> tokens, int[] types) {
    static Vocabulary read(JsonNode root, boolean byteFallback, Path file) {
      JsonNode vocab = root.path("model").path("vocab");
      JsonNode added = root.path("added_tokens");
      int size = 0;
      for (JsonNode id : vocab) {
        size = Math.max(size, id.asInt() + 1);
      }
      for (JsonNode token : added) {
        size = Math.max(size, token.path("id").asInt() + 1);
      }
      String[] tokens = new String[size];
      int[] types = new int[size];
      Arrays.fill(types, TokenTypes.UNUSED);
      for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> entry = it.next();
        int id = entry.getValue().asInt();
        tokens[id] = entry.getKey();
        boolean isByte = byteFallback && TokenTypes.parseByteToken(entry.getKey()) >= 0;
        types[id] = isByte ? TokenTypes.BYTE : TokenTypes.NORMAL;
      }
      for (JsonNode token : added) {
        int id = token.path("id").asInt();
        tokens[id] = token.path("content").asText();
        types[id] =
            token.path("special").asBoolean(false) ? TokenTypes.CONTROL : TokenTypes.USER_DEFINED;
      }
      for (int id = 0; id < size; id++) {
        if (tokens[id] == null) {
          tokens[id] = "[PAD" + id + "]"; // a hole in the ids, filled as llama.cpp's converter does
        }
      }
      if (size == 0) {
        throw new ModelFormatException(file, "tokenizer.json has no vocabulary");
      }
      return new Vocabulary(List.of(tokens), types);
    }

    SpecialTokens specials(int bosId, int eosId, boolean addBos, Path file) {
      for (int id : new int[] {bosId, eosId}) {
        if (id < 0 || id >= tokens.size()) {
          throw new ModelFormatException(
              file, "special token " + id + " is outside the vocabulary of " + tokens.size());
        }
      }
      return SpecialTokens.of(tokens, bosId, eosId, addBos, false, Set.of());
    }
  }

  /** True if the component or any step of a {@code Sequence} has the type. */
  private static boolean mentionsType(JsonNode component, String type) {
    if (type.equals(component.path("type").asText())) {
      return true;
    }
    for (JsonNode step : component.path("pretokenizers")) {
      if (mentionsType(step, type)) {
        return true;
      }
    }
    return false;
  }

  /** The regular expression of the pre-tokenizer's {@code Split} step, or null. */
  private static String splitExpression(JsonNode root) {
    JsonNode preTokenizer = root.path("pre_tokenizer");
    List<JsonNode> steps = new ArrayList<>();
    preTokenizer.path("pretokenizers").forEach(steps::add);
    steps.add(preTokenizer);
    for (JsonNode step : steps) {
      if ("Split".equals(step.path("type").asText())) {
        return step.path("pattern").path("Regex").asText(null);
      }
    }
    return null;
  }

  /** Merges as {@code "left right"}, from either of the two layouts tokenizer.json uses. */
  private static List<String> merges(JsonNode merges) {
    List<String> out = new ArrayList<>(merges.size());
    for (JsonNode merge : merges) {
      out.add(
          merge.isArray() ? merge.get(0).asText() + " " + merge.get(1).asText() : merge.asText());
    }
    return out;
  }
}
