package io.specd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.http.client.sse.ServerSentEvent;
import dev.langchain4j.model.StreamingResponseHandler;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.LogProb;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiChatRequestParameters;
import dev.langchain4j.model.openai.OpenAiChatResponseMetadata;
import dev.langchain4j.model.openai.OpenAiLanguageModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingLanguageModel;
import dev.langchain4j.model.output.Response;
import io.specd.streams.http.SpecdRoutes;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * LangChain4j's OpenAI models against the server on loopback: the chat model and the (completions)
 * language model, each whole and streamed; the chat model with logprobs (LangChain4j 1.19 surfaces
 * them for whole responses; for streamed ones the test reads the events the client received).
 * LangChain4j has no prompt arrays.
 */
class LangChain4jTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final ChatRequest STORY =
      ChatRequest.builder().messages(UserMessage.from("Tell me a story about a cat.")).build();
  private static LoopbackServer server;
  private static String model;

  @BeforeAll
  static void startServer() {
    server = LoopbackServer.start("specd.gpu.kv-slots = 4\nspecd.session.max-sessions = 4");
    model = SpecdRoutes.modelId(server.engine);
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldChatWholeAndStreamedWithLogprobs() throws Exception {
    OpenAiChatRequestParameters parameters =
        OpenAiChatRequestParameters.builder()
            .modelName(model)
            .temperature(0.0)
            .maxCompletionTokens(10)
            .logprobs(true)
            .topLogprobs(2)
            .build();
    ChatResponse whole =
        OpenAiChatModel.builder()
            .baseUrl(server.baseUrl() + "/v1")
            .apiKey("unused")
            .maxRetries(0)
            .timeout(TIMEOUT)
            .defaultRequestParameters(parameters)
            .build()
            .chat(STORY);
    String text = whole.aiMessage().text();
    assertThat(text).isNotBlank();
    List<LogProb> logprobs = ((OpenAiChatResponseMetadata) whole.metadata()).logProbs();
    assertThat(logprobs).isNotEmpty();
    assertThat(logprobs).allSatisfy(token -> assertThat(token.topLogprobs()).hasSize(2));
    assertThat(logprobs.get(0).topLogprobs().get(0).logprob()).isEqualTo(logprobs.get(0).logprob());

    StringBuilder partial = new StringBuilder();
    CompletableFuture<ChatResponse> streamed = new CompletableFuture<>();
    OpenAiStreamingChatModel.builder()
        .logRequests(true)
        .logResponses(true)
        .baseUrl(server.baseUrl() + "/v1")
        .apiKey("unused")
        .timeout(TIMEOUT)
        .build()
        .chat(
            // LangChain4j 1.19's streaming model does not send logprobs from its default
            // parameters, only from the request's
            ChatRequest.builder().messages(STORY.messages()).parameters(parameters).build(),
            new StreamingChatResponseHandler() {
              @Override
              public void onPartialResponse(String text) {
                partial.append(text);
              }

              @Override
              public void onCompleteResponse(ChatResponse response) {
                streamed.complete(response);
              }

              @Override
              public void onError(Throwable error) {
                streamed.completeExceptionally(error);
              }
            });
    ChatResponse last = streamed.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertThat(partial.toString()).isEqualTo(text);
    assertThat(last.aiMessage().text()).isEqualTo(text);
    // LangChain4j 1.19's streaming chat model leaves logProbs() null; the events it received
    // carry them
    assertThat(streamedLogprobTokens((OpenAiChatResponseMetadata) last.metadata()))
        .isEqualTo(logprobs.stream().map(LogProb::token).toList());
    assertThat(last.tokenUsage().outputTokenCount())
        .isEqualTo(whole.tokenUsage().outputTokenCount());
  }

  /** The tokens of the logprobs in the server-sent events a streamed chat received. */
  private static List<String> streamedLogprobTokens(OpenAiChatResponseMetadata metadata)
      throws IOException {
    List<String> tokens = new ArrayList<>();
    for (ServerSentEvent event : metadata.rawServerSentEvents()) {
      for (JsonNode choice : LoopbackServer.JSON.readTree(event.data()).path("choices")) {
        choice.path("logprobs").path("content").forEach(t -> tokens.add(t.path("token").asText()));
      }
    }
    return tokens;
  }

  @Test
  void shouldCompleteWholeAndStreamedThroughTheLanguageModel() throws Exception {
    Response<String> whole =
        OpenAiLanguageModel.builder()
            .baseUrl(server.baseUrl() + "/v1")
            .apiKey("unused")
            .modelName(model)
            .temperature(0.0)
            .maxRetries(0)
            .timeout(TIMEOUT)
            .build()
            .generate("Once upon a time");
    assertThat(whole.content()).isNotBlank();
    assertThat(whole.tokenUsage().outputTokenCount()).isEqualTo(16); // OpenAI's default max_tokens

    StringBuilder partial = new StringBuilder();
    CompletableFuture<Response<String>> streamed = new CompletableFuture<>();
    OpenAiStreamingLanguageModel.builder()
        .baseUrl(server.baseUrl() + "/v1")
        .apiKey("unused")
        .modelName(model)
        .temperature(0.0)
        .timeout(TIMEOUT)
        .build()
        .generate(
            "Once upon a time",
            new StreamingResponseHandler<>() {
              @Override
              public void onNext(String token) {
                partial.append(token);
              }

              @Override
              public void onComplete(Response<String> response) {
                streamed.complete(response);
              }

              @Override
              public void onError(Throwable error) {
                streamed.completeExceptionally(error);
              }
            });
    Response<String> last = streamed.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertThat(partial.toString()).isEqualTo(whole.content());
    assertThat(last.content()).isEqualTo(whole.content());
  }
}
