package io.specd.streams.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.specd.kernels.TestModels;
import io.specd.kernels.format.GgufFile;
import io.specd.kernels.sample.TokenLogprobs;
import io.specd.kernels.tokenizer.GgufTokenizers;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Log-probabilities in OpenAI's two shapes, on stories260K's vocabulary: a character split over
 * byte tokens keeps each part's bytes (chat), and text offsets continue from chunk to chunk.
 */
class LogprobsWriterTest {
  private static final String SMILE = "\uD83D\uDE42"; // U+1F642, four byte tokens
  private static TextTokenizer tokenizer;
  private static List<TokenLogprobs> scored;

  @BeforeAll
  static void load() {
    tokenizer = GgufTokenizers.read(GgufFile.open(TestModels.stories260K()));
    scored = new ArrayList<>();
    for (int token : tokenizer.encode("Hi " + SMILE, false, false)) {
      scored.add(new TokenLogprobs(token, -1f, new int[] {token}, new float[] {-1f}));
    }
  }

  @Test
  void shouldKeepEachTokensOwnBytesInChatEntries() {
    JsonNode logprobs = new LogprobsWriter(ApiRequest.Kind.CHAT, tokenizer, 0).write(scored);
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
    for (JsonNode entry : logprobs.path("content")) {
      entry.path("bytes").forEach(b -> joined.write(b.asInt()));
      assertThat(entry.path("top_logprobs").get(0).path("bytes")).isEqualTo(entry.path("bytes"));
    }
    assertThat(joined.toString(StandardCharsets.UTF_8)).isEqualTo(" Hi " + SMILE);
    JsonNode last = logprobs.path("content").get(logprobs.path("content").size() - 1);
    assertThat(last.path("token").asText()).isEqualTo("\uFFFD");
    assertThat(last.path("bytes")).hasSize(1);
    assertThat(logprobs.path("refusal").isNull()).isTrue();
  }

  @Test
  void shouldContinueTextOffsetsFromChunkToChunkAfterTheEcho() {
    LogprobsWriter writer = new LogprobsWriter(ApiRequest.Kind.COMPLETION, tokenizer, 5);
    JsonNode first = writer.write(scored.subList(0, 2));
    JsonNode second = writer.write(scored.subList(2, scored.size()));
    int offset = 5;
    for (JsonNode chunk : List.of(first, second)) {
      for (int i = 0; i < chunk.path("tokens").size(); i++) {
        assertThat(chunk.path("text_offset").get(i).asInt()).isEqualTo(offset);
        assertThat(chunk.path("token_logprobs").get(i).asDouble()).isEqualTo(-1.0);
        String token = chunk.path("tokens").get(i).asText();
        assertThat(chunk.path("top_logprobs").get(i).path(token).asDouble()).isEqualTo(-1.0);
        offset += token.length();
      }
    }
  }
}
