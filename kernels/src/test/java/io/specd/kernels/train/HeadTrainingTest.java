package io.specd.kernels.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.TestModels;
import io.specd.kernels.format.SafetensorsFile;
import io.specd.kernels.format.SafetensorsWriter;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.heads.HeadCheckpoint;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.SpeculativeDecoder;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.DecodeStats;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import io.specd.policies.spec.StopRule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Self-distillation works: a few hundred steps on a small corpus the target writes make every head
 * kind's drafts accepted more often than the untrained heads', and training resumes exactly from
 * its last checkpoint.
 */
class HeadTrainingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> PROMPTS =
      List.of("Once upon a time", "The little dog", "Lily and Tom went to", "One day, a bird");

  private static LlamaModel model;
  private static CorpusSplit corpus;

  @TempDir Path directory;

  @BeforeAll
  static void writeACorpus() {
    model = TestModels.loadStories260K();
    corpus =
        new CorpusSplit(
            DistillationCorpus.build(
                model,
                DistillationCorpus.builtInPrompts(),
                new DistillationCorpus.Spec(96, 128, 0.5, 3, 11, 1),
                done -> {}));
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @ParameterizedTest
  @EnumSource(DrafterKind.class)
  void trainingShouldRaiseAcceptance(DrafterKind kind) throws IOException {
    double untrained;
    try (HeadTrainer trainer = trainer(kind)) {
      untrained = meanAccepted(kind, exportUntrained(trainer));
      Path trained =
          HeadTraining.run(
              model,
              trainer,
              new HeadTraining.Settings(300, 0.003f, 15, 5, 0),
              directory.resolve(kind.id() + ".json"),
              JSON.createObjectNode(),
              new Quiet());
      double after = meanAccepted(kind, trained);
      assertThat(after)
          .as("%s mean accepted length: untrained %.2f, trained %.2f", kind.id(), untrained, after)
          .isGreaterThan(untrained + 0.2);
    }
  }

  @Test
  void trainingShouldResumeExactlyFromItsLastCheckpoint() throws IOException {
    HeadTraining.Settings settings = new HeadTraining.Settings(40, 0.003f, 4, 5, 20);
    Path straight = directory.resolve("straight.json");
    try (HeadTrainer trainer = trainer(DrafterKind.MEDUSA)) {
      HeadTraining.run(model, trainer, settings, straight, JSON.createObjectNode(), new Quiet());
    }
    Path resumed = directory.resolve("resumed.json");
    try (HeadTrainer trainer = trainer(DrafterKind.MEDUSA)) {
      Quiet interrupt =
          new Quiet() {
            @Override
            public void checkpoint(int step, Path checkpoint) {
              throw new IllegalStateException("interrupted at step " + step);
            }
          };
      assertThatThrownBy(
              () ->
                  HeadTraining.run(
                      model, trainer, settings, resumed, JSON.createObjectNode(), interrupt))
          .hasMessage("interrupted at step 20");
    }
    try (HeadTrainer trainer = trainer(DrafterKind.MEDUSA)) {
      HeadTraining.run(model, trainer, settings, resumed, JSON.createObjectNode(), new Quiet());
    }
    SafetensorsFile a = SafetensorsFile.open(directory.resolve("straight.safetensors"));
    SafetensorsFile b = SafetensorsFile.open(directory.resolve("resumed.safetensors"));
    assertThat(b.tensors().keySet()).isEqualTo(a.tensors().keySet());
    for (String name : a.tensors().keySet()) {
      if (a.entry(name).dtype().equals("I32")) { // the n-gram counts
        assertThat(b.readInts(name)).as(name).containsExactly(a.readInts(name));
      } else {
        assertThat(b.readFloats(name)).as(name).containsExactly(a.readFloats(name));
      }
    }
  }

  private static HeadTrainer trainer(DrafterKind kind) {
    return switch (kind) {
      case MEDUSA -> new MedusaTrainer(model, corpus, 4, 1, false, 128, 16);
      case CLOVER -> new CloverTrainer(model, corpus, 4, 1, 4, 3);
      case KANGAROO -> new KangarooTrainer(model, corpus, 1, 4);
    };
  }

  /** The trainer's current (initial) heads as a checkpoint. */
  private Path exportUntrained(HeadTrainer trainer) throws IOException {
    SafetensorsWriter tensors = new SafetensorsWriter();
    ObjectNode config = JSON.createObjectNode();
    config.put("kind", trainer.kind());
    config.set("target", HeadCheckpoint.target(model));
    trainer.export(tensors, config);
    Path path = directory.resolve("untrained-" + trainer.kind() + ".json");
    HeadCheckpoint.write(path, config, tensors);
    return path;
  }

  /** Mean tokens per step of greedy speculative decoding with a 4-deep chain of drafts. */
  private static double meanAccepted(DrafterKind kind, Path checkpoint) {
    try (KvCachePool pool = model.newCachePool(1, 256);
        Drafter drafter = kind.load(model, checkpoint, 1, 256)) {
      SpeculativeDecoder decoder =
          new SpeculativeDecoder(
              model,
              pool,
              drafter,
              () -> new StaticPolicy("chain-4", Plan.chain(4, StopRule.NONE)),
              AcceptanceMode.LOSSLESS);
      long generated = 0;
      long steps = 0;
      for (String prompt : PROMPTS) {
        DecodeStats stats =
            decoder
                .generate(
                    new GenerationRequest(
                        model.tokenizer().encodePrompt(prompt), 96, SamplingParams.GREEDY),
                    TokenSink.IGNORE)
                .stats();
        generated += stats.generatedTokens() - 1;
        steps += stats.steps();
      }
      return (double) generated / steps;
    }
  }

  /** A listener that reports nothing. */
  private static class Quiet implements HeadTraining.Listener {
    @Override
    public void step(int step, int total, float loss) {}

    @Override
    public void checkpoint(int step, Path checkpoint) {}
  }
}
