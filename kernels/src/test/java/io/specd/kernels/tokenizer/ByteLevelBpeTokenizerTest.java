package io.specd.kernels.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.kernels.TestData;
import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.ModelFormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Byte-level BPE on llama.cpp's Llama 3 vocabulary ({@code ggml-vocab-llama-bpe.gguf}). */
class ByteLevelBpeTokenizerTest {
  private static final String LLAMA = "\uD83E\uDD99"; // U+1F999, four UTF-8 bytes

  private static TextTokenizer llama3;

  @BeforeAll
  static void load() {
    llama3 = GgufTokenizers.read(GgufFile.open(vocabulary("ggml-vocab-llama-bpe.gguf")));
  }

  static Path vocabulary(String name) {
    return TestData.file("tokenizer-tests/" + name);
  }

  @Test
  void shouldAddBosAndParseControlTokensOnlyWhenAsked() {
    assertThat(llama3.encodePrompt("Hello world")).containsExactly(128000, 9906, 1917);
    assertThat(llama3.encode("<|eot_id|>", false, true)).containsExactly(128009);
    assertThat(llama3.encode("<|eot_id|>", false, false)).hasSizeGreaterThan(1);
    assertThat(llama3.isEndOfGeneration(128009)).isTrue();
    assertThat(llama3.decode(new int[] {128000, 9906}, true)).isEqualTo("<|begin_of_text|>Hello");
    assertThat(llama3.decode(new int[] {128000, 9906})).isEqualTo("Hello");
  }

  @Test
  void streamingShouldHoldACharacterSplitAcrossTokensUntilItIsWhole() {
    int[] ids = llama3.encode("a" + LLAMA + "b", false, false);
    assertThat(llama3.decode(new int[] {ids[1]})).as("the emoji is split").contains("\uFFFD");
    IncrementalDecoder decoder = new IncrementalDecoder(llama3, new int[0]);
    List<String> pieces = new ArrayList<>();
    for (int id : ids) {
      pieces.add(decoder.accept(id));
    }
    pieces.add(decoder.flush());
    assertThat(pieces).allSatisfy(piece -> assertThat(piece).doesNotContain("\uFFFD"));
    assertThat(String.join("", pieces)).isEqualTo("a" + LLAMA + "b");
    // the emoji's first tokens emit nothing, the last one the whole character
    assertThat(pieces).containsSubsequence("a", "", LLAMA, "b");
  }

  @Test
  void aTruncatedStreamShouldFlushWhatItHolds() {
    int[] ids = llama3.encode(LLAMA, false, false);
    IncrementalDecoder decoder = new IncrementalDecoder(llama3, new int[0]);
    assertThat(decoder.accept(ids[0])).isEmpty();
    assertThat(decoder.flush()).isEqualTo(llama3.decode(new int[] {ids[0]}));
  }

  @Test
  void preTokenizersShouldGroupDigitsAsTheirModelsDo() {
    Path file = Path.of("test.gguf");
    assertThat(PreTokenizer.named("llama-bpe", file).split("12345 ab"))
        .containsExactly("123", "45", " ab");
    assertThat(PreTokenizer.named("qwen2", file).split("12345"))
        .containsExactly("1", "2", "3", "4", "5");
    assertThat(PreTokenizer.named("gpt-2", file).split("Hello world  123!!"))
        .containsExactly("Hello", " world", " ", " 123", "!!");
    assertThat(PreTokenizer.named("starcoder", file).split("ab 12"))
        .containsExactly("ab", " ", "1", "2");
  }

  @Test
  void anUnknownPreTokenizerShouldBeAnErrorNamingIt() {
    assertThatThrownBy(() -> PreTokenizer.named("tekken", Path.of("m.gguf")))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("'tekken'")
        .hasMessageContaining("llama-bpe");
  }
}
