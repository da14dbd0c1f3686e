package io.specd.kernels.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.specd.kernels.TestModels;
import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.SpeculativeDecoder;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import io.specd.policies.spec.StopRule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every drafter works on a model of another architecture: heads trained briefly for the qwen2 model
 * (Q/K/V biases, NEOX RoPE, which Clover-2's augmenting layer inherits) keep greedy decoding
 * exactly the plain output, on every backend.
 */
class Qwen2DraftersTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] PROMPTS = {"The old man sat by the river and", "Once upon a time"};
  private static final Map<DrafterKind, Path> HEADS = new EnumMap<>(DrafterKind.class);

  @TempDir static Path directory;

  @BeforeAll
  static void trainHeads() throws IOException {
    try (LlamaModel torch = LlamaModel.load(qwen2(), TestModels.backend("torch"))) {
      CorpusSplit corpus =
          new CorpusSplit(
              DistillationCorpus.build(
                  torch,
                  DistillationCorpus.builtInPrompts(),
                  new DistillationCorpus.Spec(24, 64, 0.5, 3, 5, 1),
                  done -> {}));
      for (DrafterKind kind : DrafterKind.values()) {
        try (HeadTrainer trainer = trainer(kind, torch, corpus)) {
          HEADS.put(
              kind,
              HeadTraining.run(
                  torch,
                  trainer,
                  new HeadTraining.Settings(30, 0.003f, 3, 5, 0),
                  directory.resolve(kind.id() + ".json"),
                  JSON.createObjectNode(),
                  new HeadTraining.Listener() {
                    @Override
                    public void step(int step, int total, float loss) {}

                    @Override
                    public void checkpoint(int step, Path checkpoint) {}
                  }));
        }
      }
    }
  }

  @AfterAll
  static void forget() {
    HEADS.clear();
  }

  private static HeadTrainer trainer(DrafterKind kind, LlamaModel model, CorpusSplit corpus) {
    return switch (kind) {
      case MEDUSA -> new MedusaTrainer(model, corpus, 3, 1, false, 64, 8);
      case CLOVER -> new CloverTrainer(model, corpus, 3, 1, 4, 3);
      case KANGAROO -> new KangarooTrainer(model, corpus, 1, 4);
    };
  }

  static Stream<Arguments> cases() {
    return TestModels.backends()
        .flatMap(b -> Stream.of(DrafterKind.values()).map(kind -> Arguments.of(b, kind)));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("cases")
  void greedyDecodingShouldStayThePlainOutput(String backend, DrafterKind kind) {
    try (LlamaModel model = LlamaModel.load(qwen2(), TestModels.backend(backend));
        KvCachePool pool = model.newCachePool(1, 128);
        Drafter drafter = kind.load(model, HEADS.get(kind), 1, 128)) {
      AutoregressiveDecoder plain = new AutoregressiveDecoder(model, pool);
      SpeculativeDecoder speculative =
          new SpeculativeDecoder(
              model,
              pool,
              drafter,
              () -> new StaticPolicy("tree", Plan.tree(3, 8, 3, StopRule.NONE)),
              AcceptanceMode.LOSSLESS);
      for (String prompt : PROMPTS) {
        GenerationRequest request =
            new GenerationRequest(
                model.tokenizer().encodePrompt(prompt), 48, SamplingParams.GREEDY);
        assertThat(speculative.generate(request, TokenSink.IGNORE).tokens())
            .as("%s on %s: %s", kind.id(), backend, prompt)
            .containsExactly(plain.generate(request, TokenSink.IGNORE).tokens());
      }
    }
  }

  private static Path qwen2() {
    return TestModels.model("synthetic/synth-qwen2-F32.gguf");
  }
}
