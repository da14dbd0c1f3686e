package io.specd.kernels.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.TestData;
import io.specd.kernels.format.GgufFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * llama.cpp's own tokenizer test cases ({@code test-tokenizer-0}) over its vocabulary-only GGUFs in
 * {@code ../shared/tokenizer-tests/}: every case tokenized without BOS and without parsing special
 * tokens gives llama.cpp's ids, and the ids decode back to the input.
 */
class LlamaCppTokenizerCasesTest {
  private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ggml-vocab-llama-spm.gguf",
        "ggml-vocab-phi-3.gguf",
        "ggml-vocab-llama-bpe.gguf",
        "ggml-vocab-qwen2.gguf"
      })
  void everyCaseShouldGiveLlamaCppsIdsAndDecodeBack(String vocabulary) throws IOException {
    assertEveryCase(
        GgufTokenizers.read(GgufFile.open(testsFolder().resolve(vocabulary))), vocabulary);
  }

  /**
   * The same vocabulary as a Hugging Face {@code tokenizer.json} (vocab, merges, added tokens and
   * the Split expression of the model's own file) gives the same ids.
   */
  @ParameterizedTest
  @CsvSource({"ggml-vocab-llama-bpe.gguf, '\\p{N}{1,3}'", "ggml-vocab-qwen2.gguf, '\\p{N}'"})
  void aByteLevelTokenizerJsonShouldGiveTheSameIds(String vocabulary, String digits)
      throws IOException {
    GgufFile gguf = GgufFile.open(testsFolder().resolve(vocabulary));
    TextTokenizer fromGguf = GgufTokenizers.read(gguf);
    Path json = dir.resolve("tokenizer.json");
    writeTokenizerJson(
        gguf,
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
            + digits
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        json);
    TextTokenizer fromJson = TokenizerJson.read(json, fromGguf.bosId(), fromGguf.eosId());
    assertEveryCase(fromJson, vocabulary);
    assertThat(fromJson.encodePrompt("<|im_start|>Hi"))
        .containsExactly(fromGguf.encodePrompt("<|im_start|>Hi"));
  }

  private static void writeTokenizerJson(GgufFile gguf, String splitExpression, Path file)
      throws IOException {
    List<String> tokens = gguf.strings("tokenizer.ggml.tokens");
    int[] types = gguf.optionalInts("tokenizer.ggml.token_type").orElseThrow();
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    ArrayNode added = root.putArray("added_tokens");
    ObjectNode model = root.putObject("model").put("type", "BPE");
    ObjectNode vocab = model.putObject("vocab");
    for (int id = 0; id < tokens.size(); id++) {
      if (types[id] == TokenTypes.CONTROL || types[id] == TokenTypes.USER_DEFINED) {
        added
            .addObject()
            .put("id", id)
            .put("content", tokens.get(id))
            .put("special", types[id] == TokenTypes.CONTROL);
      } else {
        vocab.put(tokens.get(id), id);
      }
    }
    ArrayNode merges = model.putArray("merges");
    gguf.strings("tokenizer.ggml.merges").forEach(merges::add);
    ObjectNode preTokenizer = root.putObject("pre_tokenizer").put("type", "Sequence");
    ArrayNode steps = preTokenizer.putArray("pretokenizers");
    steps
        .addObject()
        .put("type", "Split")
        .put("behavior", "Isolated")
        .putObject("pattern")
        .put("Regex", splitExpression);
    steps.addObject().put("type", "ByteLevel").put("use_regex", false);
    json.writeValue(file.toFile(), root);
  }

  private static void assertEveryCase(TextTokenizer tokenizer, String vocabulary)
      throws IOException {
    Path file = testsFolder().resolve(vocabulary);
    List<String> inputs = inputs(file.resolveSibling(vocabulary + ".inp"));
    List<String> expected =
        Files.readAllLines(file.resolveSibling(vocabulary + ".out"), StandardCharsets.UTF_8);
    assertThat(expected).hasSameSizeAs(inputs);
    for (int i = 0; i < inputs.size(); i++) {
      String input = inputs.get(i);
      int[] ids = tokenizer.encode(input, false, false);
      assertThat(ids).as("case %d %s", i, quoted(input)).containsExactly(parseIds(expected.get(i)));
      assertThat(tokenizer.decode(ids))
          .as("decoded case %d %s", i, quoted(input))
          .isEqualTo(spacePrefixed(tokenizer, input));
      assertThat(streamed(tokenizer, ids))
          .as("streamed case %d %s", i, quoted(input))
          .isEqualTo(spacePrefixed(tokenizer, input));
    }
  }

  /**
   * The text an {@link IncrementalDecoder} emits, checking that no piece has a broken character.
   */
  private static String streamed(TextTokenizer tokenizer, int[] ids) {
    IncrementalDecoder decoder = new IncrementalDecoder(tokenizer, new int[0]);
    StringBuilder text = new StringBuilder();
    for (int id : ids) {
      String piece = decoder.accept(id);
      assertThat(piece).doesNotContain("\uFFFD");
      text.append(piece);
    }
    return text.append(decoder.flush()).toString();
  }

  /** SentencePiece vocabularies prefix a text with a space, which decoding keeps. */
  private static String spacePrefixed(TextTokenizer tokenizer, String input) {
    return tokenizer instanceof SentencePieceTokenizer && !input.isEmpty() ? " " + input : input;
  }

  static List<String> inputs(Path file) throws IOException {
    String[] parts =
        Files.readString(file, StandardCharsets.UTF_8).split(Pattern.quote(SEPARATOR), -1);
    return Arrays.asList(parts).subList(0, parts.length - 1);
  }

  private static int[] parseIds(String line) {
    String trimmed = line.trim();
    return trimmed.isEmpty()
        ? new int[0]
        : Arrays.stream(trimmed.split(" ")).mapToInt(Integer::parseInt).toArray();
  }

  private static String quoted(String text) {
    return '"' + text.replace("\n", "\\n").replace("\t", "\\t") + '"';
  }

  static Path testsFolder() {
    return TestData.file("tokenizer-tests");
  }
}
