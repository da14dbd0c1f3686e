package io.specd.streams.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The OpenAI request fields as a contract, field by field against the API reference: streaming
 * decided by {@code stream} whatever {@code Accept} says, SSE headers, {@code
 * stream_options.include_usage}, prompt arrays (strings, token ids, arrays of token ids) and {@code
 * n} with one indexed choice each, {@code seed}, {@code echo}, {@code logprobs} in the completions
 * and chat shapes (whole and streamed alike), {@code user}, and the refusals: an unknown model (404
 * {@code model_not_found}), unsupported fields that ask for something, inconsistent options.
 */
class OpenAiContractTest {
  private static final String COMPLETIONS = "/v1/completions";
  private static final String CHAT = "/v1/chat/completions";
  private static final String STORY = "\"prompt\": \"Once upon a time\", \"temperature\": 0";
  private static TestServer server;

  @BeforeAll
  static void startServer() {
    server = TestServer.start("specd.gpu.kv-slots = 8\nspecd.session.max-sessions = 8", false);
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @ParameterizedTest(name = "Accept: {0}")
  @ValueSource(strings = {"application/json", "text/event-stream", "*/*"})
  void shouldStreamWhenStreamIsTrueWhateverTheAcceptHeaderSays(String accept) throws Exception {
    HttpResponse<String> response =
        server.client.send(
            server
                .postRequest(COMPLETIONS, "{" + STORY + ", \"max_tokens\": 6, \"stream\": true}")
                .header("Accept", accept)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/event-stream");
    assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-cache");
    assertThat(response.headers().firstValue("X-Accel-Buffering")).hasValue("no");
    List<String> data = data(response);
    assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
    List<JsonNode> chunks = chunks(data);
    assertThat(chunks).allMatch(chunk -> chunk.path("choices").size() == 1, "no usage chunk");
    JsonNode finish = chunks.get(chunks.size() - 1).path("choices").get(0);
    assertThat(finish.path("finish_reason").asText()).isEqualTo("length");
    assertThat(finish.path("speculative").path("drafter").asText()).isEqualTo("none");
  }

  @Test
  void shouldEndWithAUsageChunkOnlyWhenAskedFor() throws Exception {
    String body =
        "{"
            + STORY
            + ", \"max_tokens\": 5, \"stream\": true,"
            + " \"stream_options\": {\"include_usage\": true}}";
    List<JsonNode> chunks = chunks(data(server.post(COMPLETIONS, body)));
    JsonNode last = chunks.get(chunks.size() - 1);
    assertThat(last.path("choices")).isEmpty();
    assertThat(last.path("usage").path("completion_tokens").asInt()).isEqualTo(5);
    assertThat(last.path("usage").path("speculative").path("policy").asText()).isEqualTo("none");
    assertThat(chunks.subList(0, chunks.size() - 1))
        .allMatch(chunk -> chunk.path("usage").isMissingNode());
  }

  @Test
  void shouldAnswerAnUnknownModelWith404ModelNotFound() throws Exception {
    HttpResponse<String> response =
        server.post(COMPLETIONS, "{\"model\": \"gpt-4\", \"prompt\": \"x\"}");
    assertThat(response.statusCode()).isEqualTo(404);
    JsonNode error = TestServer.json(response).path("error");
    assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.path("code").asText()).isEqualTo("model_not_found");
    assertThat(error.path("param").asText()).isEqualTo("model");
    assertThat(error.path("message").asText()).contains("gpt-4", "stories260K.gguf");
  }

  @Test
  void shouldAnswerEachPromptOfAnArrayWithItsOwnIndexedChoice() throws Exception {
    String once = whole("{" + STORY + ", \"max_tokens\": 8}").get(0).path("text").asText();
    String dog =
        whole("{\"prompt\": \"The dog\", \"temperature\": 0, \"max_tokens\": 8}")
            .get(0)
            .path("text")
            .asText();
    int[] ids = server.engine.model().tokenizer().encodePrompt("Once upon a time");
    String idList = Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));

    List<JsonNode> strings =
        whole(
            "{\"prompt\": [\"Once upon a time\", \"The dog\"], \"temperature\": 0,"
                + " \"max_tokens\": 8}");
    assertThat(strings).extracting(c -> c.path("index").asInt()).containsExactly(0, 1);
    assertThat(strings).extracting(c -> c.path("text").asText()).containsExactly(once, dog);

    List<JsonNode> tokenIds =
        whole("{\"prompt\": [" + idList + "], \"temperature\": 0, \"max_tokens\": 8}");
    assertThat(tokenIds).extracting(c -> c.path("text").asText()).containsExactly(once);

    List<JsonNode> arrays =
        whole(
            "{\"prompt\": [["
                + idList
                + "], ["
                + idList
                + "]], \"temperature\": 0,"
                + " \"max_tokens\": 8}");
    assertThat(arrays).extracting(c -> c.path("text").asText()).containsExactly(once, once);
  }

  @Test
  void shouldStreamTheChoicesOfAPromptArrayInterleavedByIndex() throws Exception {
    String request =
        "{\"prompt\": [\"Once upon a time\", \"The dog\"], \"temperature\": 0, \"max_tokens\": 8%s}";
    List<JsonNode> whole = whole(request.formatted(""));
    List<JsonNode> chunks =
        chunks(
            data(
                server.post(
                    COMPLETIONS,
                    request.formatted(
                        ", \"stream\": true, \"stream_options\": {\"include_usage\": true}"))));
    StringBuilder[] texts = {new StringBuilder(), new StringBuilder()};
    List<Integer> finished = new ArrayList<>();
    for (JsonNode chunk : chunks.subList(0, chunks.size() - 1)) {
      JsonNode choice = chunk.path("choices").get(0);
      texts[choice.path("index").asInt()].append(choice.path("text").asText());
      if (!choice.path("finish_reason").isNull()) {
        finished.add(choice.path("index").asInt());
      }
    }
    assertThat(finished).containsExactlyInAnyOrder(0, 1);
    assertThat(texts[0].toString()).isEqualTo(whole.get(0).path("text").asText());
    assertThat(texts[1].toString()).isEqualTo(whole.get(1).path("text").asText());
    JsonNode usage = chunks.get(chunks.size() - 1).path("usage");
    assertThat(usage.path("completion_tokens").asInt()).isEqualTo(16);
  }

  @Test
  void shouldSampleNIndependentChoicesReproduciblyWithASeed() throws Exception {
    String request =
        "{\"prompt\": \"Once upon a time\", \"temperature\": 1, \"max_tokens\": 12, \"n\": 3,"
            + " \"seed\": 42, \"user\": \"someone\"}";
    HttpResponse<String> response = server.post(COMPLETIONS, request);
    JsonNode body = TestServer.json(response);
    List<JsonNode> choices = list(body.path("choices"));
    assertThat(choices).extracting(c -> c.path("index").asInt()).containsExactly(0, 1, 2);
    List<String> texts = choices.stream().map(c -> c.path("text").asText()).toList();
    assertThat(texts).doesNotHaveDuplicates();
    assertThat(whole(request)).extracting(c -> c.path("text").asText()).isEqualTo(texts);
    int promptTokens = server.engine.model().tokenizer().encodePrompt("Once upon a time").length;
    assertThat(body.path("usage").path("prompt_tokens").asInt()).isEqualTo(promptTokens);
    assertThat(body.path("usage").path("completion_tokens").asInt()).isEqualTo(36);
  }

  @Test
  void shouldSampleNChatChoices() throws Exception {
    JsonNode body =
        TestServer.json(
            server.post(
                CHAT,
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me a story\"}],"
                    + " \"max_tokens\": 6, \"n\": 2, \"seed\": 7}"));
    List<JsonNode> choices = list(body.path("choices"));
    assertThat(choices).extracting(c -> c.path("index").asInt()).containsExactly(0, 1);
    assertThat(choices).allMatch(c -> c.path("message").path("role").asText().equals("assistant"));
    assertThat(choices).allMatch(c -> c.path("speculative").path("policy").isTextual());
    assertThat(body.path("usage").has("speculative")).as("only for one choice").isFalse();
  }

  @Test
  void shouldEchoThePromptBeforeTheCompletion() throws Exception {
    String plain = whole("{" + STORY + ", \"max_tokens\": 6}").get(0).path("text").asText();
    String echoed =
        whole("{" + STORY + ", \"max_tokens\": 6, \"echo\": true}").get(0).path("text").asText();
    assertThat(echoed).isEqualTo("Once upon a time" + plain);
    List<JsonNode> chunks =
        chunks(
            data(
                server.post(
                    COMPLETIONS,
                    "{" + STORY + ", \"max_tokens\": 6, \"echo\": true, \"stream\": true}")));
    assertThat(chunks.get(0).path("choices").get(0).path("text").asText())
        .isEqualTo("Once upon a time");
  }

  @Test
  void shouldReportCompletionLogprobsWholeAndStreamedAlike() throws Exception {
    String request = "{" + STORY + ", \"max_tokens\": 10, \"logprobs\": 3%s}";
    JsonNode choice = whole(request.formatted("")).get(0);
    JsonNode logprobs = choice.path("logprobs");
    List<JsonNode> tokens = list(logprobs.path("tokens"));
    assertThat(tokens).hasSize(10);
    assertThat(tokens.stream().map(JsonNode::asText).collect(Collectors.joining()))
        .isEqualTo(choice.path("text").asText());
    int offset = 0;
    for (int i = 0; i < 10; i++) {
      double logprob = logprobs.path("token_logprobs").get(i).asDouble();
      JsonNode top = logprobs.path("top_logprobs").get(i);
      assertThat(logprob).isBetween(-50.0, 0.0);
      assertThat(top.size()).isBetween(1, 3); // alternatives that decode alike share a key
      // greedy: the chosen token is the most likely one
      assertThat(top.path(tokens.get(i).asText()).asDouble()).isEqualTo(logprob);
      assertThat(logprobs.path("text_offset").get(i).asInt()).isEqualTo(offset);
      offset += tokens.get(i).asText().length();
    }

    List<JsonNode> streamedTokens = new ArrayList<>();
    List<JsonNode> streamedLogprobs = new ArrayList<>();
    List<JsonNode> offsets = new ArrayList<>();
    for (JsonNode chunk :
        chunks(data(server.post(COMPLETIONS, request.formatted(", \"stream\": true"))))) {
      JsonNode part = chunk.path("choices").get(0).path("logprobs");
      streamedTokens.addAll(list(part.path("tokens")));
      streamedLogprobs.addAll(list(part.path("token_logprobs")));
      offsets.addAll(list(part.path("text_offset")));
    }
    assertThat(streamedTokens).isEqualTo(tokens);
    assertClose(streamedLogprobs, list(logprobs.path("token_logprobs")));
    assertThat(offsets).isEqualTo(list(logprobs.path("text_offset")));
  }

  @Test
  void shouldReportChatLogprobsAsContentEntries() throws Exception {
    String request =
        "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me a story\"}],"
            + " \"max_tokens\": 6, \"temperature\": 0, \"logprobs\": true, \"top_logprobs\": 2%s}";
    JsonNode choice =
        list(TestServer.json(server.post(CHAT, request.formatted(""))).path("choices")).get(0);
    List<JsonNode> content = list(choice.path("logprobs").path("content"));
    assertThat(content).isNotEmpty();
    StringBuilder text = new StringBuilder();
    for (JsonNode entry : content) {
      text.append(entry.path("token").asText());
      assertThat(entry.path("logprob").asDouble()).isLessThanOrEqualTo(0.0);
      assertThat(entry.path("bytes").size()).isEqualTo(entry.path("token").asText().length());
      assertThat(entry.path("top_logprobs")).hasSize(2);
      assertThat(entry.path("top_logprobs").get(0).path("logprob").asDouble())
          .isEqualTo(entry.path("logprob").asDouble());
    }
    assertThat(text.toString()).startsWith(choice.path("message").path("content").asText());

    List<JsonNode> streamed = new ArrayList<>();
    for (JsonNode chunk :
        chunks(data(server.post(CHAT, request.formatted(", \"stream\": true"))))) {
      streamed.addAll(list(chunk.path("choices").get(0).path("logprobs").path("content")));
    }
    assertThat(streamed)
        .extracting(e -> e.path("token"))
        .isEqualTo(content.stream().map(e -> e.path("token")).toList());
    assertClose(
        streamed.stream().map(e -> e.path("logprob")).toList(),
        content.stream().map(e -> e.path("logprob")).toList());
  }

  static Stream<Arguments> refusals() {
    return Stream.of(
        Arguments.of(
            COMPLETIONS, "\"stream_options\": {\"include_usage\": true}", "stream_options"),
        Arguments.of(COMPLETIONS, "\"n\": 0", "n"),
        Arguments.of(COMPLETIONS, "\"n\": 17", "n"),
        Arguments.of(COMPLETIONS, "\"logprobs\": 21", "logprobs"),
        Arguments.of(COMPLETIONS, "\"logprobs\": 2, \"echo\": true", "echo"),
        Arguments.of(COMPLETIONS, "\"frequency_penalty\": 0.5", "frequency_penalty"),
        Arguments.of(COMPLETIONS, "\"logit_bias\": {\"13\": 5}", "logit_bias"),
        Arguments.of(COMPLETIONS, "\"suffix\": \"The end.\"", "suffix"),
        Arguments.of(COMPLETIONS, "\"best_of\": 3", "best_of"),
        Arguments.of(CHAT, "\"top_logprobs\": 2", "top_logprobs"),
        Arguments.of(CHAT, "\"response_format\": {\"type\": \"json_object\"}", "response_format"),
        Arguments.of(CHAT, "\"tools\": [{\"type\": \"function\"}]", "tools"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("refusals")
  void shouldRefuseWhatItCannotDoWith400NamingTheField(String path, String fields, String param)
      throws Exception {
    String base =
        path.equals(CHAT)
            ? "\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]"
            : "\"prompt\": \"x\"";
    HttpResponse<String> response = server.post(path, "{" + base + ", " + fields + "}");
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(TestServer.json(response).path("error").path("param").asText()).isEqualTo(param);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "[\"x\", [1, 2]]",
        "[]",
        "[[]]",
        "[1, 100000]",
        "[[1, -1]]",
        "[1.5]",
      })
  void shouldRefuseAMalformedPromptArray(String prompt) throws Exception {
    HttpResponse<String> response = server.post(COMPLETIONS, "{\"prompt\": " + prompt + "}");
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(TestServer.json(response).path("error").path("param").asText()).isEqualTo("prompt");
  }

  @Test
  void shouldAcceptUnsupportedFieldsAtTheirNeutralValues() throws Exception {
    HttpResponse<String> response =
        server.post(
            CHAT,
            "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 2,"
                + " \"frequency_penalty\": 0, \"presence_penalty\": 0.0, \"logit_bias\": {},"
                + " \"tools\": [], \"tool_choice\": \"none\", \"response_format\": {\"type\":"
                + " \"text\"}, \"user\": \"u-1\", \"metadata\": {\"a\": \"b\"}, \"store\": false}");
    assertThat(response.statusCode()).isEqualTo(200);
  }

  /**
   * Log-probabilities of two runs agree to float rounding (a batch's shape changes the order of the
   * sums).
   */
  private static void assertClose(List<JsonNode> actual, List<JsonNode> expected) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < actual.size(); i++) {
      assertThat(actual.get(i).asDouble()).isCloseTo(expected.get(i).asDouble(), within(1e-4));
    }
  }

  private static List<JsonNode> whole(String body) throws IOException, InterruptedException {
    HttpResponse<String> response = server.post(COMPLETIONS, body);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return list(TestServer.json(response).path("choices"));
  }

  /** The data of each event of a streamed response, {@code [DONE]} last. */
  private static List<String> data(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return response
        .body()
        .lines()
        .filter(l -> l.startsWith("data:"))
        .map(l -> l.substring(5).strip())
        .toList();
  }

  /** The JSON chunks of a stream (every event but {@code [DONE]}). */
  private static List<JsonNode> chunks(List<String> data) throws IOException {
    List<JsonNode> chunks = new ArrayList<>();
    for (String event : data.subList(0, data.size() - 1)) {
      chunks.add(TestServer.JSON.readTree(event));
    }
    return chunks;
  }

  private static List<JsonNode> list(JsonNode array) {
    List<JsonNode> elements = new ArrayList<>();
    array.forEach(elements::add);
    return elements;
  }
}
