package io.specd.streams.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.train.CloverTrainer;
import io.specd.kernels.train.CorpusSplit;
import io.specd.kernels.train.DistillationCorpus;
import io.specd.kernels.train.HeadTrainer;
import io.specd.kernels.train.HeadTraining;
import io.specd.kernels.train.KangarooTrainer;
import io.specd.kernels.train.MedusaTrainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code specd train-heads}: self-distillation. The target writes a seeded corpus from the built-in
 * story openings (and BOS alone), then one head kind is trained on it with AdamW; the checkpoint
 * (JSON config + safetensors) is written every {@code --checkpoint-every} steps and at the end, and
 * a run with the same {@code --out} resumes where the last one stopped.
 */
@Command(
    name = "train-heads",
    mixinStandardHelpOptions = true,
    description = "Train draft heads for a model by self-distillation.")
final class TrainHeadsCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;
  @Mixin ModelOptions modelOptions;

  @Option(
      names = "--kind",
      required = true,
      paramLabel = "K",
      description = "Head kind: medusa, clover or kangaroo.")
  String kind;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "FILE",
      description = "Checkpoint config to write (FILE.json; weights go to FILE.safetensors).")
  Path out;

  @Option(
      names = "--steps",
      paramLabel = "N",
      defaultValue = "2000",
      description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(
      names = "--learning-rate",
      paramLabel = "LR",
      defaultValue = "0.003",
      description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
  float learningRate;

  @Option(
      names = "--batch",
      paramLabel = "N",
      defaultValue = "16",
      description =
          "Sequences per step (Clover-2, Kangaroo) or x16 positions (Medusa) (default:"
              + " ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--depth",
      paramLabel = "N",
      defaultValue = "5",
      description = "Heads trained: Medusa heads, Clover-2 depths (default: ${DEFAULT-VALUE}).")
  int depth;

  @Option(
      names = "--augmenting-layers",
      paramLabel = "N",
      defaultValue = "1",
      description = "Clover-2 augmenting decoder layers (default: ${DEFAULT-VALUE}).")
  int augmentingLayers;

  @Option(
      names = "--exit-layer",
      paramLabel = "L",
      defaultValue = "1",
      description = "Kangaroo: target layers run before the adapter (default: ${DEFAULT-VALUE}).")
  int exitLayer;

  @Option(
      names = "--tree-nodes",
      paramLabel = "N",
      defaultValue = "48",
      description = "Medusa: nodes of the calibrated static tree (default: ${DEFAULT-VALUE}).")
  int treeNodes;

  @Option(
      names = "--corpus-sequences",
      paramLabel = "N",
      defaultValue = "768",
      description = "Sequences the target writes (default: ${DEFAULT-VALUE}).")
  int corpusSequences;

  @Option(
      names = "--corpus-length",
      paramLabel = "N",
      defaultValue = "256",
      description = "Tokens per corpus sequence (default: ${DEFAULT-VALUE}).")
  int corpusLength;

  @Option(
      names = "--corpus-temperature",
      paramLabel = "T",
      defaultValue = "0.5",
      description = "Sampling temperature of the corpus (default: ${DEFAULT-VALUE}).")
  double corpusTemperature;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "0",
      description = "Seeds the corpus, the initial weights and the minibatches.")
  long seed;

  @Option(
      names = "--checkpoint-every",
      paramLabel = "N",
      defaultValue = "500",
      description =
          "Steps between checkpoints; 0 writes only at the end (default: ${DEFAULT-VALUE}).")
  int checkpointEvery;

  /** Sampled tokens right after each opening, so that the corpus branches early. */
  private static final int OPENING_TOKENS = 3;

  @Override
  public Integer call() throws Exception {
    DrafterKind drafter =
        Arrays.stream(DrafterKind.values())
            .filter(k -> k.id().equals(kind))
            .findFirst()
            .orElseThrow(
                () ->
                    new ParameterException(
                        spec.commandLine(),
                        "--kind must be medusa, clover or kangaroo, got '" + kind + "'"));
    if (!out.getFileName().toString().endsWith(".json")) {
      throw new IllegalArgumentException("--out must name a .json file, got " + out);
    }
    HeadTraining.Settings settings =
        new HeadTraining.Settings(steps, learningRate, steps / 20, seed, checkpointEvery);
    DistillationCorpus.Spec corpusSpec =
        new DistillationCorpus.Spec(
            corpusSequences,
            corpusLength,
            corpusTemperature,
            OPENING_TOKENS,
            seed,
            drafter == DrafterKind.KANGAROO ? exitLayer : 0);
    PrintWriter err = spec.commandLine().getErr();
    if (modelOptions.backend != null && !modelOptions.backend.equals("torch")) {
      throw new IllegalArgumentException(
          "train-heads trains on the torch backend (DJL's autograd); the heads it writes run on"
              + " every backend");
    }
    try (LlamaModel model = modelOptions.load("torch")) {
      DistillationCorpus corpus;
      try (ProgressBar bar = ProgressBars.of("corpus", corpusSequences)) {
        corpus =
            DistillationCorpus.build(
                model, DistillationCorpus.builtInPrompts(), corpusSpec, bar::stepTo);
      }
      err.printf("corpus: %d sequences, %d tokens%n", corpus.sequences().size(), corpus.tokens());
      CorpusSplit split = new CorpusSplit(corpus);
      ObjectNode describe = describe(corpusSpec, settings);
      try (HeadTrainer trainer = trainer(drafter, model, split);
          ProgressBar bar = ProgressBars.of("train " + kind, steps)) {
        HeadTraining.run(
            model,
            trainer,
            settings,
            out,
            describe,
            new HeadTraining.Listener() {
              @Override
              public void step(int step, int total, float loss) {
                bar.stepTo(step);
                bar.setExtraMessage(String.format("loss %.4f", loss));
              }

              @Override
              public void checkpoint(int step, Path checkpoint) {}
            });
      }
      err.printf("wrote %s%n", out);
    }
    return 0;
  }

  private HeadTrainer trainer(DrafterKind drafter, LlamaModel model, CorpusSplit split) {
    return switch (drafter) {
      case MEDUSA -> new MedusaTrainer(model, split, depth, 1, false, batch * 16, treeNodes);
      case CLOVER -> new CloverTrainer(model, split, depth, augmentingLayers, batch, seed);
      case KANGAROO -> new KangarooTrainer(model, split, exitLayer, batch);
    };
  }

  /** What the checkpoint records of how it was made. */
  private ObjectNode describe(DistillationCorpus.Spec corpus, HeadTraining.Settings settings) {
    ObjectNode training = JSON.createObjectNode();
    ObjectNode c = training.putObject("corpus");
    c.put("sequences", corpus.sequences());
    c.put("length", corpus.length());
    c.put("temperature", corpus.temperature());
    c.put("opening_tokens", corpus.openingTokens());
    c.put("seed", corpus.seed());
    training.put("steps", settings.steps());
    training.put("learning_rate", settings.learningRate());
    training.put("warmup_steps", settings.warmupSteps());
    training.put("batch", batch);
    training.put("seed", settings.seed());
    return training;
  }
}
