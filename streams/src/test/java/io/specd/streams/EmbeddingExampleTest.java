package io.specd.streams;

import static org.assertj.core.api.Assertions.assertThat;

import akka.stream.javadsl.Sink;
import com.typesafe.config.ConfigFactory;
import io.specd.actors.CompletionRequest;
import io.specd.actors.Engine;
import io.specd.actors.EngineLoader;
import io.specd.actors.TokenEvent;
import io.specd.gpu.Backends;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.store.ModelStore;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The README's embedding example, as an embedder writes it against {@code specd-streams} alone
 * (this module has no command line and no logging backend on its main class path).
 */
class EmbeddingExampleTest {

  @Test
  void theReadmesExampleShouldCompileAndStreamACompletion() throws Exception {
    Path file = ModelStore.standard().findLocal().orElseThrow();
    assertThat(embed(file)).startsWith(", there was a little girl named Lily.");
  }

  /** The README's example, verbatim from "LlamaModel model" to "return text". */
  private static String embed(Path file) throws Exception {
    LlamaModel model = LlamaModel.load(file, Backends.choose(null, 0)); // java on a CPU
    Engine engine = EngineLoader.start(ConfigFactory.load(), model, "none", null, null, false);
    try {
      String text =
          SpecDecoding.source(engine, CompletionRequest.greedy("Once upon a time", 32))
              .filter(event -> event instanceof TokenEvent.Tokens)
              .map(event -> ((TokenEvent.Tokens) event).text())
              .runWith(Sink.fold("", String::concat), engine.system())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      return text;
    } finally {
      engine.close(); // stops the actors and frees the model
    }
  }
}
