package io.specd.kernels.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.format.GgufFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * TinyStories-656K's two tokenizers, the {@code tokenizer.json} of the Hugging Face checkpoint as
 * published and the vocabulary llama.cpp converted from it into the Q8_0 GGUF, give the same ids
 * and the same text, on a few stories and on every input of llama.cpp's tokenizer tests.
 */
class TinyStoriesTokenizersTest {

  @Test
  void tokenizerJsonShouldGiveTheIdsOfTheGgufVocabulary() throws IOException {
    Path gguf = TestModels.tinyStoriesQ8();
    TextTokenizer fromGguf = GgufTokenizers.read(GgufFile.open(gguf));
    TextTokenizer fromJson =
        TokenizerJson.read(
            gguf.resolveSibling("TinyStories-656K").resolve("tokenizer.json"),
            fromGguf.bosId(),
            fromGguf.eosId());
    List<String> texts =
        new ArrayList<>(
            List.of(
                // "little▁girl▁named▁" is one token, which llama.cpp's equal scores never make
                "Once upon a time, there was a little girl named Lily.",
                "\"I'm sorry,\" said the bird.  Two  spaces.\n\nNew paragraph!",
                "<|start_story|>Tom had a red ball. He"));
    texts.addAll(
        LlamaCppTokenizerCasesTest.inputs(
            LlamaCppTokenizerCasesTest.testsFolder().resolve("ggml-vocab-llama-spm.gguf.inp")));
    for (String text : texts) {
      int[] ids = fromGguf.encodePrompt(text);
      assertThat(fromJson.encodePrompt(text)).as(text).containsExactly(ids);
      assertThat(fromJson.decode(ids)).as(text).isEqualTo(fromGguf.decode(ids));
    }
    assertThat(fromJson.encodePrompt("Once upon a time")).containsExactly(1, 80, 147, 201, 282, 57);
  }
}
