package io.specd.kernels.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.format.GgufFile;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TokenizerTest {
  private static SentencePieceTokenizer tokenizer;

  @BeforeAll
  static void load() {
    tokenizer = SentencePieceTokenizer.fromGguf(GgufFile.open(TestModels.stories260K()));
  }

  @Test
  void shouldTokenizeTheReferencePromptAsLlamaCpp() {
    assertThat(tokenizer.encodePrompt("Once upon a time")).containsExactly(1, 403, 407, 261, 378);
    assertThat(tokenizer.encode("Once upon a time", false, false))
        .containsExactly(403, 407, 261, 378);
  }

  @Test
  void shouldFallBackToBytesForCharactersOutsideTheVocabulary() {
    int[] ids = tokenizer.encode("\uD83D\uDE42", false, false); // U+1F642, four UTF-8 bytes
    // "▁" is a token; the emoji is not, so its bytes become <0xF0> <0x9F> <0x99> <0x82>
    assertThat(ids).hasSize(5);
    assertThat(tokenizer.piece(ids[0])).isEqualTo("\u2581");
    assertThat(tokenizer.piece(ids[1])).isEqualTo("<0xF0>");
    assertThat(tokenizer.piece(ids[4])).isEqualTo("<0x82>");
    assertThat(tokenizer.decode(ids)).isEqualTo(" \uD83D\uDE42");
    assertThat(tokenizer.tokenBytes(ids[1])).containsExactly(0xF0);
    assertThat(tokenizer.tokenBytes(ids[0])).containsExactly(' ');
    assertThat(tokenizer.tokenBytes(2)).isEqualTo("</s>".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void shouldSplitOutSpecialTokensOnlyWhenAsked() {
    assertThat(tokenizer.encode("Hi</s>", false, true)).endsWith(2);
    assertThat(tokenizer.encode("Hi</s>", false, false)).doesNotContain(2);
    // after a special token the next fragment gets a space prefix again, as in llama.cpp
    assertThat(tokenizer.encode("<s>Once", false, true)).containsExactly(1, 403);
  }

  @Test
  void shouldRoundTripText() {
    String text = "Lily's mom said, \"Don't worry!\"\nThey played 3 games.";
    assertThat(tokenizer.decode(tokenizer.encode(text, false, false))).isEqualTo(" " + text);
  }

  @Test
  void incrementalDecodingShouldNeverEmitABrokenCharacter() {
    int[] prompt = tokenizer.encodePrompt("Say");
    int[] ids = tokenizer.encode("héllo 日本 \uD83D\uDE42", false, false);
    IncrementalDecoder decoder = new IncrementalDecoder(tokenizer, prompt);
    StringBuilder streamed = new StringBuilder();
    for (int id : ids) {
      String piece = decoder.accept(id);
      assertThat(piece).doesNotContain("\uFFFD");
      streamed.append(piece);
    }
    streamed.append(decoder.flush());
    assertThat(streamed.toString()).isEqualTo(" héllo 日本 \uD83D\uDE42");
  }
}
