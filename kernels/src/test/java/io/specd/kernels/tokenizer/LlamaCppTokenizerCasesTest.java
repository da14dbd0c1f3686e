package io.specd.kernels.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.format.GgufFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * llama.cpp's own tokenizer test cases ({@code test-tokenizer-0}) over its vocabulary-only GGUFs in
 * {@code ../shared/tokenizer-tests/}: every case tokenized without BOS and without parsing special
 * tokens gives llama.cpp's ids, and the ids decode back to the input.
 */
class LlamaCppTokenizerCasesTest {
  private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ggml-vocab-llama-spm.gguf",
        "ggml-vocab-phi-3.gguf",
        "ggml-vocab-llama-bpe.gguf",
        "ggml-vocab-qwen2.gguf"
      })
  void everyCaseShouldGiveLlamaCppsIdsAndDecodeBack(String vocabulary) throws IOException {
    Path file = testsFolder().resolve(vocabulary);
    TextTokenizer tokenizer = GgufTokenizers.read(GgufFile.open(file));
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
    return TestModels.stories260K().toAbsolutePath().getParent().resolveSibling("tokenizer-tests");
  }
}
