package io.specd.cli;

import static io.specd.cli.GenerateCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import akka.stream.javadsl.Sink;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.specd.actors.CompletionRequest;
import io.specd.actors.Engine;
import io.specd.actors.EngineLoader;
import io.specd.actors.TokenEvent;
import io.specd.cli.GenerateCommandTest.Outcome;
import io.specd.gpu.Backends;
import io.specd.kernels.TestModels;
import io.specd.kernels.llama.LlamaModel;
import io.specd.policies.spec.DecodeStats;
import io.specd.streams.SpecDecoding;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The command line ({@code generate}, an engine in its own process) and an engine the test runs as
 * the server does give the same tokens and the same statistics — steps, accepted and drafted tokens
 * — for the same greedy request, for plain decoding and for each drafter under a static policy.
 */
class DecodingPathsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROMPT = "Once upon a time";
  private static final int TOKENS = 64;

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"none, none", "medusa, static-2", "clover, static-3", "kangaroo, static-3"})
  void generateAndTheEngineShouldGiveTheSameTokens(String drafter, String policy) throws Exception {
    Outcome outcome =
        run(
            "generate",
            "--json",
            "--model",
            TestModels.stories260K().toString(),
            "--drafter",
            drafter,
            "--policy",
            policy,
            "--prompt",
            PROMPT,
            "--max-tokens",
            Integer.toString(TOKENS));
    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    JsonNode generated = JSON.readTree(outcome.out());

    LlamaModel model = LlamaModel.load(TestModels.stories260K(), Backends.choose(null, 0));
    Engine engine =
        EngineLoader.start(
            ConfigFactory.parseString("akka.loglevel = WARNING").withFallback(ConfigFactory.load()),
            model,
            drafter,
            null,
            policy,
            false);
    try {
      List<TokenEvent> events =
          SpecDecoding.source(engine, CompletionRequest.greedy(PROMPT, TOKENS))
              .runWith(Sink.seq(), engine.system())
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      List<Integer> tokens = new ArrayList<>();
      for (TokenEvent event : events) {
        if (event instanceof TokenEvent.Tokens t) {
          IntStream.of(t.tokenIds()).forEach(tokens::add);
        }
      }
      assertThat(events.get(events.size() - 1)).isInstanceOf(TokenEvent.Finished.class);
      List<Integer> fromGenerate = new ArrayList<>();
      generated.path("tokens").forEach(id -> fromGenerate.add(id.asInt()));
      assertThat(tokens).as("tokens").isEqualTo(fromGenerate);
      DecodeStats engineStats =
          ((TokenEvent.Finished) events.get(events.size() - 1)).usage().stats();
      JsonNode generateStats = generated.path("stats");
      assertThat(engineStats.steps()).as("steps").isEqualTo(generateStats.path("steps").asInt());
      assertThat(engineStats.acceptedTokens())
          .as("accepted tokens")
          .isEqualTo(generateStats.path("accepted_tokens").asLong());
      assertThat(engineStats.draftedTokens())
          .as("drafted tokens")
          .isEqualTo(generateStats.path("drafted_tokens").asLong());
    } finally {
      engine.close();
    }
  }
}
