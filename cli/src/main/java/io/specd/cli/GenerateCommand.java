package io.specd.cli;

import akka.stream.javadsl.Sink;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.specd.actors.CompletionRequest;
import io.specd.actors.Engine;
import io.specd.actors.EngineLoader;
import io.specd.actors.PreparedRequest;
import io.specd.actors.TokenEvent;
import io.specd.kernels.llama.LlamaModel;
import io.specd.policies.PolicyFactory;
import io.specd.policies.spec.DecodeStats;
import io.specd.policies.spec.SamplingParams;
import io.specd.streams.SpecDecoding;
import io.specd.streams.http.StatsJson;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code specd generate}: one completion, streamed as text or printed as one JSON object. It runs
 * through the engine the server runs (in process, no HTTP): the same session and device actors, so
 * EOS, {@code max_tokens}, stop strings, policies and statistics are the server's.
 */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = "Generate a completion for a prompt.")
final class GenerateCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One session at a time: the engine holds one KV cache (caches grow in pages as used). */
  static final String ONE_SESSION = "specd.gpu.kv-slots = 1\nspecd.session.max-sessions = 1";

  @Spec CommandSpec spec;
  @Mixin ModelOptions modelOptions;
  @Mixin DecodingOptions decoding;

  @Option(names = "--prompt", required = true, paramLabel = "P", description = "The prompt text.")
  String prompt;

  @Option(
      names = "--max-tokens",
      paramLabel = "N",
      defaultValue = "128",
      description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
  int maxTokens;

  @Option(
      names = "--stop",
      paramLabel = "S",
      description =
          "A string that ends the completion where it appears (not printed); repeat for several.")
  List<String> stop = new ArrayList<>();

  @Option(
      names = "--json",
      description = "Print one JSON object (text, tokens, stats) instead of streaming the text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    SamplingParams sampling = decoding.sampling();
    if (decoding.policy != null) {
      PolicyFactory.checkKnown(decoding.policy); // also when the drafter turns out to be none
    }
    CompletionRequest request =
        new CompletionRequest(prompt, maxTokens, sampling, stop, decoding.policy);
    Config config = ConfigFactory.parseString(ONE_SESSION).withFallback(ConfigFactory.load());
    LlamaModel model = modelOptions.load();
    Engine engine;
    try {
      engine =
          EngineLoader.start(
              config,
              model,
              decoding.drafter,
              decoding.heads,
              decoding.policy,
              decoding.typicalAcceptance);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    try (engine) {
      PreparedRequest prepared = engine.prepare(request); // a bad request fails here, by name
      PrintWriter out = spec.commandLine().getOut();
      Completion completion = new Completion(json ? null : out);
      try {
        SpecDecoding.source(engine, prepared)
            .runWith(Sink.foreach(completion::take), engine.system())
            .toCompletableFuture()
            .get();
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception cause ? cause : e;
      }
      if (json) {
        out.println(JSON.writeValueAsString(toJson(model, completion)));
      } else {
        out.println();
        DecodeStats s = completion.finished.usage().stats();
        spec.commandLine()
            .getErr()
            .printf(
                "[%d tokens, %.1f tokens/s (%.1f after the first token), %.2f tokens per step,"
                    + " drafter %s, policy %s, finish %s]%n",
                s.generatedTokens(),
                s.tokensPerSecond(),
                s.decodeTokensPerSecond(),
                s.meanAccepted(),
                completion.finished.usage().drafter(),
                completion.finished.usage().policy(),
                completion.finished.reason().openAiName());
      }
      out.flush();
    }
    return 0;
  }

  /** What the engine's events make of a completion, the text streamed as it comes when asked. */
  private static final class Completion {
    private final PrintWriter streamed;
    private final StringBuilder text = new StringBuilder();
    private final List<Integer> tokens = new ArrayList<>();
    private TokenEvent.Finished finished;

    /**
     * @param streamed where the text goes as it arrives, or null to keep it for the end
     */
    Completion(PrintWriter streamed) {
      this.streamed = streamed;
    }

    void take(TokenEvent event) {
      if (event instanceof TokenEvent.Tokens t) {
        text.append(t.text());
        for (int id : t.tokenIds()) {
          tokens.add(id);
        }
        if (streamed != null) {
          streamed.print(t.text());
          streamed.flush();
        }
      } else if (event instanceof TokenEvent.Finished f) {
        finished = f;
      } else if (event instanceof TokenEvent.Failed f) {
        throw new IllegalStateException("the generation failed: " + f.message());
      }
    }
  }

  private ObjectNode toJson(LlamaModel model, Completion completion) {
    ObjectNode root = JSON.createObjectNode();
    root.put("text", completion.text.toString());
    var ids = root.putArray("tokens");
    completion.tokens.forEach(ids::add);
    root.put("finish_reason", completion.finished.reason().openAiName());
    DecodeStats s = completion.finished.usage().stats();
    ObjectNode stats = root.putObject("stats");
    stats.put("prompt_tokens", s.promptTokens());
    stats.put("generated_tokens", s.generatedTokens());
    StatsJson.write(s, stats);
    stats.put("drafter", completion.finished.usage().drafter());
    stats.put("policy", completion.finished.usage().policy());
    stats.put("backend", model.backend().name());
    return root;
  }
}
