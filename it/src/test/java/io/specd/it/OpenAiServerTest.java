package io.specd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server end to end on loopback with real clients: the official OpenAI Java SDK (completions
 * and chat, whole and streamed, with logprobs, prompt arrays and the usage chunk), a WebSocket
 * client, 16 concurrent streams, and a client that hangs up mid-stream. Clover heads, so every
 * request speculates.
 */
class OpenAiServerTest {
  private static final String MODEL = "stories260K.gguf";
  private static LoopbackServer server;
  private static OpenAIClient openAi;

  @BeforeAll
  static void startServer() {
    server = LoopbackServer.start("specd.gpu.kv-slots = 20\nspecd.session.max-sessions = 20");
    openAi =
        OpenAIOkHttpClient.builder()
            .baseUrl(server.baseUrl() + "/v1")
            .apiKey("x")
            .maxRetries(0)
            .build();
  }

  @AfterAll
  static void stopServer() {
    if (openAi != null) {
      openAi.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldCompleteThroughTheOpenAiSdkWholeAndStreamed() {
    CompletionCreateParams params =
        CompletionCreateParams.builder()
            .model(MODEL)
            .prompt("Once upon a time")
            .maxTokens(16)
            .temperature(0.0)
            .build();
    Completion whole = openAi.completions().create(params);
    CompletionChoice choice = whole.choices().get(0);
    assertThat(choice.text()).isNotBlank();
    assertThat(choice.finishReason()).isEqualTo(CompletionChoice.FinishReason.LENGTH);
    CompletionUsage usage = whole.usage().orElseThrow();
    assertThat(usage.completionTokens()).isEqualTo(16);
    JsonValue speculative = usage._allProperties().get("speculative");
    assertThat(speculative).isNotNull();
    assertThat(speculative.toString()).contains("clover");

    StringBuilder streamed = new StringBuilder();
    try (StreamResponse<Completion> chunks = openAi.completions().createStreaming(params)) {
      chunks.stream()
          .flatMap(chunk -> chunk.choices().stream())
          .forEach(c -> streamed.append(c.text()));
    }
    assertThat(streamed.toString()).isEqualTo(choice.text());
  }

  @Test
  void shouldChatThroughTheOpenAiSdkWholeAndStreamed() {
    ChatCompletionCreateParams params =
        ChatCompletionCreateParams.builder()
            .model(MODEL)
            .addUserMessage("Tell me a story about a cat.")
            .maxCompletionTokens(16)
            .temperature(0.0)
            .build();
    ChatCompletion whole = openAi.chat().completions().create(params);
    String content = whole.choices().get(0).message().content().orElseThrow();
    assertThat(whole.usage().orElseThrow().completionTokens()).isBetween(1L, 16L);

    StringBuilder streamed = new StringBuilder();
    try (StreamResponse<ChatCompletionChunk> chunks =
        openAi.chat().completions().createStreaming(params)) {
      chunks.stream()
          .flatMap(chunk -> chunk.choices().stream())
          .forEach(c -> c.delta().content().ifPresent(streamed::append));
    }
    assertThat(streamed.toString()).isEqualTo(content);
  }

  @Test
  void shouldReportLogprobsThroughTheOpenAiSdkWholeAndStreamed() {
    CompletionCreateParams completion =
        CompletionCreateParams.builder()
            .model(MODEL)
            .prompt("Once upon a time")
            .maxTokens(8)
            .temperature(0.0)
            .logprobs(2)
            .build();
    CompletionChoice.Logprobs whole =
        openAi.completions().create(completion).choices().get(0).logprobs().orElseThrow();
    assertThat(whole.tokens().orElseThrow()).hasSize(8);
    assertThat(whole.tokenLogprobs().orElseThrow()).allMatch(logprob -> logprob <= 0);
    assertThat(whole.topLogprobs().orElseThrow()).hasSize(8);
    List<String> streamed = new ArrayList<>();
    try (StreamResponse<Completion> chunks = openAi.completions().createStreaming(completion)) {
      chunks.stream()
          .flatMap(chunk -> chunk.choices().stream())
          .forEach(c -> c.logprobs().flatMap(l -> l.tokens()).ifPresent(streamed::addAll));
    }
    assertThat(streamed).isEqualTo(whole.tokens().orElseThrow());

    ChatCompletionCreateParams chat =
        ChatCompletionCreateParams.builder()
            .model(MODEL)
            .addUserMessage("Tell me a story about a cat.")
            .maxCompletionTokens(8)
            .temperature(0.0)
            .logprobs(true)
            .topLogprobs(3)
            .build();
    List<ChatCompletionTokenLogprob> content =
        openAi
            .chat()
            .completions()
            .create(chat)
            .choices()
            .get(0)
            .logprobs()
            .orElseThrow()
            .content()
            .orElseThrow();
    assertThat(content).isNotEmpty();
    for (ChatCompletionTokenLogprob token : content) {
      assertThat(token.topLogprobs()).hasSize(3);
      assertThat(token.topLogprobs().get(0).logprob()).isEqualTo(token.logprob());
    }
    List<String> chatTokens = new ArrayList<>();
    try (StreamResponse<ChatCompletionChunk> chunks =
        openAi.chat().completions().createStreaming(chat)) {
      chunks.stream()
          .flatMap(chunk -> chunk.choices().stream())
          .forEach(
              c ->
                  c.logprobs()
                      .flatMap(l -> l.content())
                      .ifPresent(l -> l.forEach(t -> chatTokens.add(t.token()))));
    }
    assertThat(chatTokens).isEqualTo(content.stream().map(t -> t.token()).toList());
  }

  @Test
  void shouldAnswerPromptArraysThroughTheOpenAiSdkWholeAndStreamed() {
    CompletionCreateParams strings =
        CompletionCreateParams.builder()
            .model(MODEL)
            .promptOfArrayOfStrings(List.of("Once upon a time", "The dog"))
            .maxTokens(8)
            .temperature(0.0)
            .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
            .build();
    List<CompletionChoice> choices =
        openAi
            .completions()
            .create(strings.toBuilder().streamOptions(Optional.empty()).build())
            .choices();
    assertThat(choices).extracting(CompletionChoice::index).containsExactly(0L, 1L);
    StringBuilder[] streamed = {new StringBuilder(), new StringBuilder()};
    List<CompletionUsage> usages = new ArrayList<>();
    try (StreamResponse<Completion> chunks = openAi.completions().createStreaming(strings)) {
      chunks.stream()
          .forEach(
              chunk -> {
                chunk.usage().ifPresent(usages::add);
                chunk.choices().forEach(c -> streamed[(int) c.index()].append(c.text()));
              });
    }
    assertThat(streamed[0].toString()).isEqualTo(choices.get(0).text());
    assertThat(streamed[1].toString()).isEqualTo(choices.get(1).text());
    assertThat(usages).hasSize(1);
    assertThat(usages.get(0).completionTokens()).isEqualTo(16);

    List<Long> ids = new ArrayList<>();
    for (int id : server.engine.model().tokenizer().encodePrompt("Once upon a time")) {
      ids.add((long) id);
    }
    CompletionCreateParams tokens =
        CompletionCreateParams.builder()
            .model(MODEL)
            .promptOfArrayOfTokenArrays(List.of(ids, ids))
            .maxTokens(8)
            .temperature(0.0)
            .build();
    assertThat(openAi.completions().create(tokens).choices())
        .extracting(CompletionChoice::text)
        .containsExactly(choices.get(0).text(), choices.get(0).text());
  }

  @Test
  void shouldAnswerSeveralRequestsInSequenceOverOneWebSocket() throws Exception {
    BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    WebSocket socket = WebSocketFrames.connect(server, frames);

    socket
        .sendText("{\"prompt\": \"Once upon a time\", \"max_tokens\": 8, \"temperature\": 0}", true)
        .get(5, TimeUnit.SECONDS);
    Answer first = answer(frames);
    assertThat(first.done().path("finish_reason").asText()).isEqualTo("length");
    assertThat(first.done().path("usage").path("completion_tokens").asInt()).isEqualTo(8);
    assertThat(first.done().path("usage").path("speculative").path("drafter").asText())
        .isEqualTo("clover");
    assertThat(first.text()).isNotBlank();

    // a request split over two frames arrives as a streamed TextMessage
    socket.sendText("{\"messages\": [{\"role\": \"user\", ", false).get(5, TimeUnit.SECONDS);
    socket
        .sendText("\"content\": \"Hi\"}], \"max_tokens\": 4, \"temperature\": 0}", true)
        .get(5, TimeUnit.SECONDS);
    Answer chat = answer(frames);
    assertThat(chat.done().path("usage").path("completion_tokens").asInt()).isBetween(1, 4);

    socket.sendText("{\"prompt\": \"x\", \"temperature\": 7}", true).get(5, TimeUnit.SECONDS);
    JsonNode error = frames.poll(30, TimeUnit.SECONDS);
    assertThat(error.path("type").asText()).isEqualTo("error");
    assertThat(error.path("param").asText()).isEqualTo("temperature");

    socket
        .sendText("{\"prompt\": \"Once upon a time\", \"max_tokens\": 8, \"temperature\": 0}", true)
        .get(5, TimeUnit.SECONDS);
    assertThat(answer(frames).text()).isEqualTo(first.text());
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
  }

  @Test
  void shouldGiveEachOf16ConcurrentStreamsItsOutputAlone() throws Exception {
    List<String> prompts = new ArrayList<>();
    String[] openings = {"Once upon a time", "One day", "Tom had a", "The sun was"};
    String[] subjects = {" a dog", " a little girl", " the big tree", " a red ball"};
    for (String opening : openings) {
      for (String subject : subjects) {
        prompts.add(opening + subject);
      }
    }
    List<String> alone = new ArrayList<>();
    for (String prompt : prompts) {
      alone.add(streamedText(prompt).join());
    }
    List<CompletableFuture<String>> together = prompts.stream().map(this::streamedText).toList();
    for (int i = 0; i < prompts.size(); i++) {
      assertThat(together.get(i).get(60, TimeUnit.SECONDS))
          .as("the completion of '%s'", prompts.get(i))
          .isEqualTo(alone.get(i))
          .isNotEmpty();
    }
  }

  @Test
  void shouldFreeTheSessionOfAClientThatHangsUpMidStream() throws Exception {
    double cancelledBefore = server.metric("specd_requests_total{finish_reason=\"cancelled\"}");
    String body =
        "{\"prompt\": \"Once upon a time\", \"temperature\": 0, \"stream\": true, \"max_tokens\": "
            + (server.engine.contextLength() - 16)
            + "}";
    try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
      OutputStream out = socket.getOutputStream();
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      out.write(
          ("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  + "Content-Type: application/json\r\nContent-Length: "
                  + bytes.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(bytes);
      out.flush();
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      int events = 0;
      while (events < 3) {
        String line = in.readLine();
        assertThat(line).isNotNull();
        if (line.contains("data:")) {
          events++;
        }
      }
    } // hang up mid-stream
    await()
        .atMost(Duration.ofSeconds(1))
        .ignoreExceptions()
        .until(() -> freed(server.get("/metrics")));
    String metrics = server.get("/metrics");
    assertThat(freed(metrics))
        .as("session and KV cache freed within a second:%n%s", metrics)
        .isTrue();
    assertThat(server.metric("specd_requests_total{finish_reason=\"cancelled\"}"))
        .isEqualTo(cancelledBefore + 1);
  }

  private static boolean freed(String metrics) {
    return metrics.contains("specd_live_sessions 0.0")
        && metrics.contains("specd_waiting_requests 0.0");
  }

  private CompletableFuture<String> streamedText(String prompt) {
    String body =
        "{\"prompt\": \""
            + prompt
            + "\", \"max_tokens\": 48, \"temperature\": 0, \"stream\": true}";
    return server
        .client
        .sendAsync(server.post("/v1/completions", body), HttpResponse.BodyHandlers.ofLines())
        .thenApply(
            response -> {
              assertThat(response.statusCode()).isEqualTo(200);
              try (Stream<String> lines = response.body()) {
                LoopbackServer.StreamedText text =
                    LoopbackServer.text(LoopbackServer.events(lines));
                assertThat(text.error()).isNull();
                return text.text();
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
  }

  /** One WebSocket answer: the text of its token frames and its done frame. */
  private record Answer(String text, JsonNode done) {}

  private static Answer answer(BlockingQueue<JsonNode> frames) throws InterruptedException {
    StringBuilder text = new StringBuilder();
    while (true) {
      JsonNode frame = frames.poll(30, TimeUnit.SECONDS);
      assertThat(frame).as("a frame within 30 s").isNotNull();
      switch (frame.path("type").asText()) {
        case "token" -> text.append(frame.path("text").asText());
        case "done" -> {
          return new Answer(text.toString(), frame);
        }
        default -> throw new AssertionError("unexpected frame " + frame);
      }
    }
  }
}
