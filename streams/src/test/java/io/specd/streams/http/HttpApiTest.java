package io.specd.streams.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The HTTP API against a real server and engine (plain decoding) on loopback. */
class HttpApiTest {
  private static TestServer server;

  @BeforeAll
  static void startServer() {
    server = TestServer.start("specd.gpu.kv-slots = 4\nspecd.session.max-sessions = 4", false);
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldReportHealthModelsAndMetrics() throws Exception {
    HttpResponse<String> health = server.get("/health");
    assertThat(health.statusCode()).isEqualTo(200);
    JsonNode body = TestServer.json(health);
    assertThat(body.path("status").asText()).isEqualTo("ok");
    assertThat(body.path("drafter").asText()).isEqualTo("none");
    assertThat(body.path("policy").asText()).isEqualTo("none");
    assertThat(body.path("context_length").asInt()).isEqualTo(server.engine.contextLength());
    assertThat(body.path("chat_template").asBoolean(true)).isFalse(); // stories260K has none
    assertThat(body.path("api_key_required").asBoolean(true)).isFalse();

    JsonNode models = TestServer.json(server.get("/v1/models"));
    assertThat(models.path("object").asText()).isEqualTo("list");
    assertThat(models.path("data").get(0).path("id").asText()).isEqualTo("stories260K.gguf");
    assertThat(models.path("data").get(0).path("owned_by").asText()).isEqualTo("specd");

    server.post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 2}");
    HttpResponse<String> metrics = server.get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/plain")
        .contains("version=0.0.4");
    assertThat(metrics.body()).contains("specd_tokens").contains("specd_live_sessions");
  }

  @Test
  void shouldServeTheChatPage() throws Exception {
    HttpResponse<String> page = server.get("/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
    assertThat(page.body()).contains("page/chat.js", "page/chat.css", "page/favicon.svg");
    assertThat(server.get("/page/chat.js").body()).contains("v1/ws");
    assertThat(server.get("/page/chat.css").headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/css");
    assertThat(server.get("/page/favicon.svg").headers().firstValue("Content-Type").orElseThrow())
        .startsWith("image/svg+xml");
    assertThat(server.get("/page/../SpecdRoutes.class").statusCode()).isEqualTo(404);
  }

  @Test
  void shouldAnswerAWholeCompletionWithUsage() throws Exception {
    HttpResponse<String> response =
        server.post(
            "/v1/completions",
            "{\"model\": \"stories260K.gguf\", \"prompt\": \"Once upon a time\", \"max_tokens\": 8,"
                + " \"temperature\": 0}");
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = TestServer.json(response);
    assertThat(body.path("object").asText()).isEqualTo("text_completion");
    assertThat(body.path("id").asText()).startsWith("cmpl-");
    JsonNode choice = body.path("choices").get(0);
    assertThat(choice.path("text").asText()).isNotBlank();
    assertThat(choice.path("finish_reason").asText()).isEqualTo("length");
    JsonNode usage = body.path("usage");
    assertThat(usage.path("completion_tokens").asInt()).isEqualTo(8);
    assertThat(usage.path("total_tokens").asInt())
        .isEqualTo(usage.path("prompt_tokens").asInt() + 8);
    assertThat(usage.path("speculative").path("drafter").asText()).isEqualTo("none");
  }

  @Test
  void shouldStreamTheSameTextAsServerSentEvents() throws Exception {
    String request = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 12, \"temperature\": 0%s}";
    String whole =
        TestServer.json(server.post("/v1/completions", request.formatted("")))
            .path("choices")
            .get(0)
            .path("text")
            .asText();

    HttpResponse<Stream<String>> response =
        server.client.send(
            server
                .postRequest(
                    "/v1/completions",
                    request.formatted(
                        ", \"stream\": true, \"stream_options\": {\"include_usage\": true}"))
                .build(),
            HttpResponse.BodyHandlers.ofLines());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/event-stream");
    List<String> data = dataLines(response.body().toList());
    assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
    List<JsonNode> chunks = new ArrayList<>();
    for (String line : data.subList(0, data.size() - 1)) {
      chunks.add(TestServer.JSON.readTree(line));
    }
    StringBuilder text = new StringBuilder();
    for (JsonNode chunk : chunks) {
      assertThat(chunk.path("object").asText()).isEqualTo("text_completion");
      if (chunk.path("choices").size() > 0) {
        text.append(chunk.path("choices").get(0).path("text").asText());
      }
    }
    assertThat(text.toString()).isEqualTo(whole);
    JsonNode finish = chunks.get(chunks.size() - 2);
    assertThat(finish.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
    JsonNode usage = chunks.get(chunks.size() - 1).path("usage");
    assertThat(usage.path("completion_tokens").asInt()).isEqualTo(12);
    JsonNode speculative = usage.path("speculative");
    assertThat(speculative.path("drafter").asText()).isEqualTo("none");
    assertThat(speculative.path("policy").asText()).isEqualTo("none");
    assertThat(speculative.has("steps")).isTrue();
    assertThat(speculative.has("drafted_tokens")).isTrue();
    assertThat(speculative.has("accepted_tokens")).isTrue();
    assertThat(speculative.has("mean_accepted")).isTrue();
    assertThat(speculative.has("acceptance_rate")).isTrue();
    assertThat(speculative.path("acceptance_per_depth").isArray()).isTrue();
  }

  @Test
  void shouldStreamChatChunksStartingWithTheAssistantRole() throws Exception {
    HttpResponse<Stream<String>> response =
        server.client.send(
            server
                .postRequest(
                    "/v1/chat/completions",
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me a story\"}],"
                        + " \"max_tokens\": 6, \"temperature\": 0, \"stream\": true,"
                        + " \"stream_options\": {\"include_usage\": true}}")
                .build(),
            HttpResponse.BodyHandlers.ofLines());
    assertThat(response.statusCode()).isEqualTo(200);
    List<String> data = dataLines(response.body().toList());
    JsonNode first = TestServer.JSON.readTree(data.get(0));
    assertThat(first.path("object").asText()).isEqualTo("chat.completion.chunk");
    assertThat(first.path("choices").get(0).path("delta").path("role").asText())
        .isEqualTo("assistant");
    assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
    JsonNode usage = TestServer.JSON.readTree(data.get(data.size() - 2)).path("usage");
    assertThat(usage.path("completion_tokens").asInt()).isBetween(1, 6);
  }

  @Test
  void shouldAnswerAWholeChatCompletion() throws Exception {
    HttpResponse<String> response =
        server.post(
            "/v1/chat/completions",
            "{\"messages\": [{\"role\": \"system\", \"content\": \"You tell stories.\"},"
                + " {\"role\": \"user\", \"content\": \"Once upon a time\"}],"
                + " \"max_completion_tokens\": 5, \"temperature\": 0}");
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = TestServer.json(response);
    assertThat(body.path("object").asText()).isEqualTo("chat.completion");
    JsonNode message = body.path("choices").get(0).path("message");
    assertThat(message.path("role").asText()).isEqualTo("assistant");
    assertThat(message.has("content")).isTrue();
    assertThat(body.path("usage").path("completion_tokens").asInt()).isBetween(1, 5);
  }

  static Stream<Arguments> badRequests() {
    String completions = "/v1/completions";
    String chat = "/v1/chat/completions";
    return Stream.of(
        Arguments.of(completions, "{\"prompt\": ", null, "not valid JSON"),
        Arguments.of(completions, "[1, 2]", null, "JSON object"),
        Arguments.of(
            completions,
            "{\"prompt\": \"x\", \"max_tokens\": \"ten\"}",
            "max_tokens",
            "max_tokens must be an integer"),
        Arguments.of(completions, "{\"prompt\": 42}", "prompt", "prompt must be a string"),
        Arguments.of(completions, "{\"max_tokens\": 4}", "prompt", "prompt is required"),
        Arguments.of(chat, "{\"prompt\": \"x\"}", "messages", "messages is required"),
        Arguments.of(
            chat,
            "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}",
            "messages[0].role",
            "messages[0].role must be one of"),
        Arguments.of(
            completions,
            "{\"prompt\": \"x\", \"max_tokens\": 0}",
            "max_tokens",
            "max_tokens must be at least 1"),
        Arguments.of(
            completions,
            "{\"prompt\": \"x\", \"temperature\": 2.5}",
            "temperature",
            "temperature must be in [0, 2]"),
        Arguments.of(
            completions,
            "{\"prompt\": \"x\", \"temperature\": \"hot\"}",
            "temperature",
            "temperature must be a number"),
        Arguments.of(
            completions, "{\"prompt\": \"x\", \"top_p\": 0}", "top_p", "top_p must be in (0, 1]"),
        Arguments.of(
            completions, "{\"prompt\": \"x\", \"top_p\": 1.5}", "top_p", "top_p must be in (0, 1]"),
        Arguments.of(
            completions,
            "{\"prompt\": \"x\", \"top_k\": -1}",
            "top_k",
            "top_k must be in [0, 1000]"),
        Arguments.of(
            completions,
            "{\"prompt\": \"x\", \"stop\": 5}",
            "stop",
            "stop must be a string or an array of strings"),
        Arguments.of(
            completions,
            "{\"prompt\": \"x\", \"policy\": \"fastest\"}",
            "policy",
            "unknown policy 'fastest'"),
        Arguments.of(
            completions,
            "{\"prompt\": \"x\", \"stream\": \"yes\"}",
            "stream",
            "stream must be true or false"),
        Arguments.of(
            completions,
            "{\"prompt\": \"x\", \"max_tokens\": 100000}",
            "max_tokens",
            "max_tokens is 100000"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("badRequests")
  void shouldRefuseABadRequestWith400NamingTheField(
      String path, String body, String param, String message) throws Exception {
    HttpResponse<String> response = server.post(path, body);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/json");
    JsonNode error = TestServer.json(response).path("error");
    assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.path("message").asText()).contains(message);
    if (param == null) {
      assertThat(error.path("param").isNull()).isTrue();
    } else {
      assertThat(error.path("param").asText()).isEqualTo(param);
    }
    assertThat(error.path("code").asText()).isNotEmpty();
  }

  @Test
  void shouldNameBothNumbersAndTheLimitWhenBeyondTheContext() throws Exception {
    int context = server.engine.contextLength();
    JsonNode error =
        TestServer.json(
                server.post(
                    "/v1/completions",
                    "{\"prompt\": \"Once upon a time\", \"max_tokens\": " + context + "}"))
            .path("error");
    assertThat(error.path("param").asText()).isEqualTo("max_tokens");
    assertThat(error.path("code").asText()).isEqualTo("context_length_exceeded");
    assertThat(error.path("message").asText())
        .contains("max_tokens is " + context)
        .contains("context length of " + context)
        .containsPattern("the prompt has \\d+ tokens");
  }

  @Test
  void shouldAnswerUnknownPathsAndWrongMethodsWithJson() throws Exception {
    HttpResponse<String> missing = server.get("/v1/nothing");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(TestServer.json(missing).path("error").path("code").asText()).isEqualTo("not_found");

    HttpResponse<String> wrongMethod = server.get("/v1/completions");
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(wrongMethod.headers().firstValue("Allow").orElseThrow()).contains("POST");
    assertThat(TestServer.json(wrongMethod).path("error").path("code").asText())
        .isEqualTo("method_not_allowed");

    HttpResponse<String> notWebSocket = server.get("/v1/ws");
    assertThat(notWebSocket.statusCode()).isEqualTo(400);
    assertThat(TestServer.json(notWebSocket).path("error").path("message").asText())
        .contains("WebSocket");
  }

  private static List<String> dataLines(List<String> lines) {
    List<String> data = new ArrayList<>();
    for (String line : lines) {
      if (line.startsWith("data:")) {
        data.add(line.substring("data:".length()).strip());
      } else {
        assertThat(line).as("an SSE line").matches("(|:.*)");
      }
    }
    return data;
  }
}
