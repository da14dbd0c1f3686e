package io.specd.streams.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestData;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code specd tokenize}, run in process on llama.cpp's vocabulary-only Llama 3 GGUF. */
class TokenizeCommandTest {
  private static final String BEGIN_OF_TEXT = "128000";

  private static String llama3Vocabulary() {
    return TestData.file("tokenizer-tests/ggml-vocab-llama-bpe.gguf").toString();
  }

  @Test
  void shouldPrintTheIdsOfTheTextWithBos() {
    GenerateCommandTest.Outcome outcome =
        GenerateCommandTest.run("tokenize", "--model", llama3Vocabulary(), "--text", "Hello world");
    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    assertThat(outcome.out().strip()).isEqualTo(BEGIN_OF_TEXT + " 9906 1917");
  }

  @Test
  void shouldParseControlTokensOnlyWhenAsked() {
    String text = "<|begin_of_text|>Hello world";
    String literal =
        GenerateCommandTest.run(
                "tokenize", "--model", llama3Vocabulary(), "--no-bos", "--text", text)
            .out();
    String parsed =
        GenerateCommandTest.run(
                "tokenize", "--model", llama3Vocabulary(), "--no-bos", "--special", "--text", text)
            .out();
    assertThat(parsed.strip()).isEqualTo(BEGIN_OF_TEXT + " 9906 1917");
    assertThat(literal.strip().split(" ")).hasSizeGreaterThan(3).doesNotContain(BEGIN_OF_TEXT);
  }

  @Test
  void shouldPrintPiecesOnePerLine() {
    GenerateCommandTest.Outcome outcome =
        GenerateCommandTest.run(
            "tokenize",
            "--model",
            llama3Vocabulary(),
            "--no-bos",
            "--pieces",
            "--text",
            "Hi there");
    assertThat(outcome.out().lines()).containsExactly("13347\t\"Hi\"", "1070\t\"Ġthere\"");
  }

  @Test
  void shouldReadJsonLinesFromStandardInput() {
    InputStream stdin = System.in;
    try {
      System.setIn(
          new ByteArrayInputStream(
              "\"Hello world\"\n\"Hello, world!\"\n".getBytes(StandardCharsets.UTF_8)));
      GenerateCommandTest.Outcome outcome =
          GenerateCommandTest.run("tokenize", "--model", llama3Vocabulary(), "--no-bos", "--jsonl");
      assertThat(outcome.exitCode()).as(outcome.err()).isZero();
      assertThat(outcome.out().lines()).containsExactly("[9906,1917]", "[9906,11,1917,0]");
    } finally {
      System.setIn(stdin);
    }
  }

  @Test
  void shouldNameAMissingModel() {
    GenerateCommandTest.Outcome outcome =
        GenerateCommandTest.run("tokenize", "--model", "/no/such/model.gguf", "--text", "x");
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err()).contains("/no/such/model.gguf");
  }
}
