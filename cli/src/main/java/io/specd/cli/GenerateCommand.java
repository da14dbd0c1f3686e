package io.specd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.generate.Decoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.GenerationResult;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.tokenizer.IncrementalDecoder;
import io.specd.policies.spec.DecodeStats;
import io.specd.policies.spec.SamplingParams;
import io.specd.streams.http.StatsJson;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code specd generate}: one completion, streamed as text or printed as one JSON object. */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = "Generate a completion for a prompt.")
final class GenerateCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

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
      names = "--json",
      description = "Print one JSON object (text, tokens, stats) instead of streaming the text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    SamplingParams sampling = decoding.sampling();
    try (LlamaModel model = modelOptions.load()) {
      int[] promptTokens = model.tokenizer().encodePrompt(prompt);
      GenerationRequest request = new GenerationRequest(promptTokens, maxTokens, sampling);
      request.checkFits(model.config().contextLength());
      PrintWriter out = spec.commandLine().getOut();
      // the model's whole context, as the engine's caches: a draft near the end of a request is
      // then cut by the same room, and generate gives the server's statistics (caches grow in
      // pages: the capacity costs nothing until it is used)
      try (KvCachePool pool = model.newCachePool(1, model.config().contextLength());
          LoadedDecoder loaded = decoding.decoder(model, pool)) {
        Decoder decoder = loaded.decoder();
        GenerationResult result;
        if (json) {
          result = decoder.generate(request, token -> true);
          out.println(JSON.writeValueAsString(toJson(model, loaded, result)));
        } else {
          IncrementalDecoder text = new IncrementalDecoder(model.tokenizer(), promptTokens);
          result =
              decoder.generate(
                  request,
                  token -> {
                    out.print(text.accept(token));
                    out.flush();
                    return true;
                  });
          out.println(text.flush());
          DecodeStats s = result.stats();
          spec.commandLine()
              .getErr()
              .printf(
                  "[%d tokens, %.1f tokens/s, %.2f tokens per step, drafter %s, policy %s,"
                      + " finish %s]%n",
                  s.generatedTokens(),
                  s.tokensPerSecond(),
                  s.meanAccepted(),
                  decoder.name(),
                  loaded.policy(),
                  result.finishReason().openAiName());
        }
        out.flush();
      }
    }
    return 0;
  }

  private ObjectNode toJson(LlamaModel model, LoadedDecoder loaded, GenerationResult result) {
    ObjectNode root = JSON.createObjectNode();
    root.put("text", model.tokenizer().decode(result.tokens()));
    var tokens = root.putArray("tokens");
    for (int token : result.tokens()) {
      tokens.add(token);
    }
    root.put("finish_reason", result.finishReason().openAiName());
    DecodeStats s = result.stats();
    ObjectNode stats = root.putObject("stats");
    stats.put("prompt_tokens", s.promptTokens());
    stats.put("generated_tokens", s.generatedTokens());
    StatsJson.write(s, stats);
    stats.put("drafter", loaded.decoder().name());
    stats.put("policy", loaded.policy());
    stats.put("backend", model.backend().name());
    return root;
  }
}
