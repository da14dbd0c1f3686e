package io.specd.streams.cli;

import io.specd.kernels.format.GgmlType;
import io.specd.kernels.heads.BundledHeads;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.heads.HeadsBeside;
import io.specd.kernels.llama.Fingerprint;
import io.specd.kernels.llama.GgufWeightSource;
import io.specd.kernels.pad.HeadPadder;
import io.specd.kernels.pad.ModelPadder;
import io.specd.kernels.pad.PadPlan;
import io.specd.kernels.pad.PaddedModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code specd pad}: writes a wider and deeper copy of a model that gives the same greedy output (a
 * memory-bound benchmark model with a real model's predictions), and pads the model's drafter heads
 * into {@code FILE.heads/} beside it, where specd finds them without flags.
 */
@Command(
    name = "pad",
    mixinStandardHelpOptions = true,
    description =
        "Write a wider, deeper copy of a GGUF model that predicts exactly as it does, with its"
            + " drafter heads padded beside it (FILE.heads/).")
final class PadCommand implements Callable<Integer> {
  private static final Map<String, GgmlType> TYPES =
      Map.of("f32", GgmlType.F32, "q8_0", GgmlType.Q8_0);

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "M", description = "The GGUF model.")
  Path model;

  @Option(
      names = "--width",
      required = true,
      paramLabel = "W",
      description = "Embedding length: at least the model's, a multiple of its head size.")
  int width;

  @Option(
      names = "--ffn",
      required = true,
      paramLabel = "F",
      description = "Feed-forward length: at least the model's.")
  int ffn;

  @Option(
      names = "--layers",
      required = true,
      paramLabel = "L",
      description = "Layer count: at least the model's; dead layers go between the real ones.")
  int layers;

  @Option(
      names = "--type",
      paramLabel = "T",
      defaultValue = "f32",
      description =
          "f32, or q8_0 (matrices whose rows are whole 32-blocks) (default: ${DEFAULT-VALUE}).")
  String type;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "FILE",
      description = "The padded model (FILE.gguf); its heads go to FILE.heads/.")
  Path out;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "0",
      description = "Seeds the random weights (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--heads",
      paramLabel = "KIND=FILE",
      description =
          "Heads to pad for a kind (medusa, clover, kangaroo) instead of those bundled for the"
              + " model; repeatable.")
  Map<String, Path> heads = new LinkedHashMap<>();

  @Override
  public Integer call() throws IOException {
    GgmlType encoding = TYPES.get(type.toLowerCase(Locale.ROOT));
    if (encoding == null) {
      throw new IllegalArgumentException("unknown --type '" + type + "'; use f32 or q8_0");
    }
    if (!out.getFileName().toString().endsWith(".gguf")) {
      throw new IllegalArgumentException("--out must name a .gguf file, got " + out);
    }
    Map<DrafterKind, Path> explicitHeads = explicitHeads();
    if (Files.isDirectory(model)) {
      throw new IllegalArgumentException("pad reads GGUF files; " + model + " is a directory");
    }
    GgufWeightSource source = GgufWeightSource.open(model);
    PadPlan plan = PadPlan.of(source.config(), width, ffn, layers, encoding, seed);
    ModelPadder padder = ModelPadder.of(model, plan);
    PrintWriter err = spec.commandLine().getErr();
    PaddedModel padded;
    try (ProgressBar bar =
        ProgressBars.builder("pad", padder.parameterCount()).setUnit("M", 1_000_000).build()) {
      padded = padder.write(out, bar::stepBy);
    }
    Map<DrafterKind, Path> written = padHeads(padded, explicitHeads, Fingerprint.of(source));
    summarize(err, padded, written);
    return 0;
  }

  private Map<DrafterKind, Path> explicitHeads() {
    Map<DrafterKind, Path> byKind = new EnumMap<>(DrafterKind.class);
    heads.forEach(
        (kind, file) ->
            byKind.put(
                Arrays.stream(DrafterKind.values())
                    .filter(k -> k.id().equals(kind))
                    .findFirst()
                    .orElseThrow(
                        () ->
                            new IllegalArgumentException(
                                "unknown head kind '"
                                    + kind
                                    + "' in --heads; use medusa, clover or kangaroo")),
                file));
    return byKind;
  }

  /** Pads the given heads, else the bundled ones; stale heads of an earlier run go first. */
  private Map<DrafterKind, Path> padHeads(
      PaddedModel padded, Map<DrafterKind, Path> explicit, String sourceFingerprint)
      throws IOException {
    Path directory = HeadsBeside.directory(padded.path());
    for (DrafterKind kind : DrafterKind.values()) {
      Files.deleteIfExists(directory.resolve(kind.id() + ".json"));
      Files.deleteIfExists(directory.resolve(kind.id() + ".safetensors"));
    }
    Map<DrafterKind, Path> checkpoints = new EnumMap<>(explicit);
    for (DrafterKind kind : DrafterKind.values()) {
      if (!checkpoints.containsKey(kind)) {
        BundledHeads.find(kind, sourceFingerprint).ifPresent(path -> checkpoints.put(kind, path));
      }
    }
    Map<DrafterKind, Path> written = new EnumMap<>(DrafterKind.class);
    for (Map.Entry<DrafterKind, Path> checkpoint : checkpoints.entrySet()) {
      written.put(
          checkpoint.getKey(),
          HeadPadder.pad(checkpoint.getKey(), checkpoint.getValue(), padded, sourceFingerprint));
    }
    return written;
  }

  private static void summarize(
      PrintWriter err, PaddedModel padded, Map<DrafterKind, Path> written) {
    PadPlan plan = padded.plan();
    var target = plan.target();
    err.printf(
        "wrote %s: %,d parameters (%.1f M), %,d bytes (%.1f MiB), %s%n",
        padded.path(),
        padded.parameters(),
        padded.parameters() / 1e6,
        padded.fileSize(),
        padded.fileSize() / (1024.0 * 1024.0),
        plan.type());
    err.printf(
        "  width %d (%d heads, %d KV heads), ffn %d, %d layers; the source's %d layers are at %s,"
            + " the others are dead%n",
        target.dim(),
        target.headCount(),
        target.kvHeadCount(),
        target.ffnDim(),
        target.layerCount(),
        plan.source().layerCount(),
        Arrays.toString(plan.realLayers()));
    if (written.isEmpty()) {
      err.printf("  no drafter heads for this model: none written%n");
    }
    for (Map.Entry<DrafterKind, Path> heads : written.entrySet()) {
      err.printf("  %s heads: %s%n", heads.getKey().id(), heads.getValue());
    }
    err.flush();
  }
}
