package io.specd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.SystemTools;
import io.specd.streams.http.SpecdRoutes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official OpenAI Node SDK (npm {@code openai}, pinned by {@code
 * src/test/node/package-lock.json}) against the server on loopback: {@code
 * src/test/node/openai-sdk.mjs} runs completions and chat, whole and streamed, with logprobs,
 * prompt arrays of strings and of token ids, the usage chunk and an unknown model. The SDK sends
 * {@code Accept: application/json} even when it streams. Needs {@code node} and the package
 * installed ({@code npm ci} in {@code src/test/node}; {@code .ci/run} does it).
 */
class OpenAiNodeSdkTest {
  private static final Path SCRIPTS = Path.of("src/test/node");
  private static LoopbackServer server;

  @BeforeAll
  static void startServer() {
    SystemTools.onPath("node", "install Node.js (Debian package nodejs)");
    SystemTools.installed(
        SCRIPTS.resolve("node_modules/openai"),
        "install the OpenAI Node SDK with `npm ci` in it/src/test/node (.ci/run does)");
    server = LoopbackServer.start("specd.gpu.kv-slots = 4\nspecd.session.max-sessions = 4");
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldServeTheOfficialNodeSdkStreamingAndNot() throws IOException, InterruptedException {
    int[] ids = server.engine.model().tokenizer().encodePrompt("Once upon a time");
    Process node =
        new ProcessBuilder(
                "node",
                "openai-sdk.mjs",
                server.baseUrl() + "/v1",
                SpecdRoutes.modelId(server.engine),
                Arrays.stream(ids)
                    .mapToObj(Integer::toString)
                    .collect(Collectors.joining(",", "[", "]")))
            .directory(SCRIPTS.toFile())
            .redirectErrorStream(true)
            .start();
    boolean ended = node.waitFor(90, TimeUnit.SECONDS);
    if (!ended) {
      node.destroyForcibly();
    }
    String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(ended).as("node ended in time:\n%s", output).isTrue();
    assertThat(node.exitValue()).as("node's exit status:\n%s", output).isZero();
    assertThat(output.lines().filter(line -> line.startsWith("ok "))).hasSize(4);
  }
}
