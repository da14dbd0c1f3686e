package io.specd.cli;

import io.specd.actors.EngineLoader;
import io.specd.policies.spec.SamplingParams;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Sampling and drafting options shared by {@code generate} and {@code bench}. */
final class DecodingOptions {
  /** The help of {@code --drafter}, here and in {@code serve}. */
  static final String DRAFTER_HELP =
      "Drafter: none, lookup (prompt lookup: no heads, drafts what followed the text's last tokens"
          + " where they appeared before), medusa, medusa+ngram, clover or kangaroo, the last four"
          + " also with +lookup (prompt lookup where the text offers a match, the heads elsewhere)"
          + " (default: the fastest measured for the backend and model when its heads ship with"
          + " specd: clover on torch; on java kangaroo+lookup for models 512 wide or more, lookup"
          + " where no heads ship for them, none for narrower ones).";

  /** Plain decoding, no drafter. */
  static final String NONE = EngineLoader.NONE;

  /** The drafter used when none is named: the fastest by {@code specd bench}. */
  @Option(
      names = "--temperature",
      paramLabel = "T",
      defaultValue = "0",
      description = "Sampling temperature; 0 is greedy (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(
      names = "--top-p",
      paramLabel = "P",
      defaultValue = "1",
      description = "Nucleus sampling threshold in (0, 1] (default: ${DEFAULT-VALUE}).")
  double topP;

  @Option(
      names = "--top-k",
      paramLabel = "K",
      defaultValue = "0",
      description =
          "Sample among the K most likely tokens; 0 disables (default: ${DEFAULT-VALUE}).")
  int topK;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "0",
      description = "Random seed: the same seed gives the same output (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--drafter", paramLabel = "D", description = DRAFTER_HELP)
  String drafter;

  @Option(
      names = "--heads",
      paramLabel = "FILE",
      description =
          "Head checkpoint of the drafter (default: the heads shipped for the default model).")
  Path heads;

  @Option(
      names = "--policy",
      paramLabel = "X",
      description =
          "Draft policy: static, static-N, confidence, adaedl, tree, bandit or none (default: the"
              + " drafter's fastest by specd bench).")
  String policy;

  @Option(
      names = "--typical-acceptance",
      description =
          "Accept drafts by Medusa's typical acceptance at T > 0: faster, but LOSSY (the output no"
              + " longer follows the model's distribution).")
  boolean typicalAcceptance;

  SamplingParams sampling() {
    return new SamplingParams(temperature, topK, topP, seed);
  }
}
