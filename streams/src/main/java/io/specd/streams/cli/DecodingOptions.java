package io.specd.streams.cli;

import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.Decoder;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.policies.spec.SamplingParams;
import picocli.CommandLine.Option;

/** Sampling and drafting options shared by {@code generate} and {@code bench}. */
final class DecodingOptions {
  /** The drafters this build offers. */
  enum Drafter {
    none
  }

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

  @Option(
      names = "--drafter",
      paramLabel = "D",
      defaultValue = "none",
      description = "Drafter: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Drafter drafter;

  SamplingParams sampling() {
    return new SamplingParams(temperature, topK, topP, seed);
  }

  Decoder decoder(LlamaModel model, KvCachePool pool) {
    return switch (drafter) {
      case none -> new AutoregressiveDecoder(model, pool);
    };
  }

  String policyName() {
    return drafter == Drafter.none ? "none" : "static";
  }
}
