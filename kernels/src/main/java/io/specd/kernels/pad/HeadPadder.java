package io.specd.kernels.pad;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.format.SafetensorsFile;
import io.specd.kernels.format.SafetensorsWriter;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.heads.HeadCheckpoint;
import io.specd.kernels.heads.HeadsBeside;
import io.specd.kernels.llama.LlamaConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pads a drafter checkpoint made for a source model so that, on the padded model, it drafts what it
 * drafted on the source, and writes it beside the padded model ({@link HeadsBeside}).
 *
 * <p>The padded model's hidden states are the source's with zeros appended, so:
 *
 * <ul>
 *   <li>Medusa blocks {@code u + SiLU(W u + b)} get zero rows and columns in W and zeros in b: the
 *       extra dimensions of u stay zero.
 *   <li>Clover-2's attention blocks normalise per target head, and the padded target has the same
 *       head size, so the source's dimensions keep their heads. The token embeddings they read are
 *       the target's LM-head rows, whose new columns are random: every matrix that reads an
 *       embedding (K, V, the token half of the projector), and the others alike, gets zero columns
 *       for the new inputs and zero rows for the new outputs. Its augmenting layers are padded as
 *       the target's layers are.
 *   <li>Kangaroo's adapter is an attention-only decoder layer, padded as the target's layers are;
 *       its exit layer moves to the padded index after which the source's exit layer's output is
 *       available.
 * </ul>
 *
 * Every RMSNorm gain is multiplied by √(d/D), as the target's are, since RMSNorm now averages over
 * D dimensions. The config is copied with the target block updated and a {@code padded_from} block
 * added.
 */
public final class HeadPadder {
  private static final Pattern MEDUSA_BLOCK =
      Pattern.compile("\\d+\\.\\d+\\.linear\\.(weight|bias)");
  private static final Pattern MEDUSA_LM_HEAD = Pattern.compile("\\d+\\.\\d+\\.weight");
  private static final Pattern LAYER = Pattern.compile("layers\\.\\d+\\.(.+)");
  private static final Pattern CLOVER_ATTENTION =
      Pattern.compile("clover_head_mlp_rnn2?\\.(input_layernorm|q|k|v)\\.(weight|bias)");

  private HeadPadder() {}

  /**
   * Pads one checkpoint and writes it to {@code <model>.heads/<kind>.json} (+ safetensors).
   *
   * @param checkpoint the source's checkpoint (specd's config, or a bare public safetensors)
   * @param model the padded model the heads are for
   * @param sourceFingerprint the source model's fingerprint, checked against the checkpoint's
   * @return the written config
   * @throws ModelFormatException if the checkpoint is of another kind, for another model, or holds
   *     a tensor padding does not know
   */
  public static Path pad(
      DrafterKind kind, Path checkpoint, PaddedModel model, String sourceFingerprint)
      throws IOException {
    HeadCheckpoint source = HeadCheckpoint.open(checkpoint);
    if (source.kind() != null && !source.kind().equals(kind.id())) {
      throw new ModelFormatException(
          checkpoint, "these are " + source.kind() + " heads, not " + kind.id() + " heads");
    }
    String trainedFor = source.config().path("target").path("fingerprint").asText("");
    if (!trainedFor.isEmpty() && !trainedFor.equals(sourceFingerprint)) {
      throw new ModelFormatException(
          checkpoint,
          "these heads were trained for the model of fingerprint "
              + trainedFor
              + ", not for the source (fingerprint "
              + sourceFingerprint
              + ")");
    }
    PadPlan plan = model.plan();
    SafetensorsFile weights = source.weights();
    SafetensorsWriter out = new SafetensorsWriter();
    for (SafetensorsFile.Entry entry : weights.tensors().values()) {
      String name = entry.name();
      if (entry.dtype().equals("I32")) { // token statistics (Medusa's n-gram model)
        out.putInts(name, weights.readInts(name), entry.shape());
        continue;
      }
      RandomGenerator random = plan.randomFor(kind.id() + "/" + name);
      Padded padded = pad(kind, name, weights.readFloats(name), entry.shape(), plan, random);
      if (padded == null) {
        throw new ModelFormatException(
            checkpoint,
            "pad does not know how to widen tensor '" + name + "' of " + kind.id() + " heads");
      }
      out.put(name, padded.values(), padded.shape());
    }
    Path json = HeadsBeside.directory(model.path()).resolve(kind.id() + ".json");
    Files.createDirectories(json.getParent());
    HeadCheckpoint.write(json, config(kind, source, model, sourceFingerprint), out);
    return json;
  }

  /** A padded tensor and its shape. */
  private record Padded(float[] values, long... shape) {}

  /** The padded tensor, or null for a name this kind does not have. */
  private static Padded pad(
      DrafterKind kind,
      String name,
      float[] values,
      long[] shape,
      PadPlan plan,
      RandomGenerator random) {
    return switch (kind) {
      case MEDUSA -> medusa(name, values, shape, plan);
      case CLOVER -> clover(name, values, shape, plan, random);
      case KANGAROO -> kangaroo(name, values, shape, plan, random);
    };
  }

  private static Padded medusa(String name, float[] values, long[] shape, PadPlan plan) {
    int d = plan.source().dim();
    if (MEDUSA_BLOCK.matcher(name).matches()) {
      return name.endsWith(".bias")
          ? bias(name, values, shape, plan)
          : square(name, values, shape, plan);
    }
    if (MEDUSA_LM_HEAD.matcher(name).matches()) { // a head's own LM head [V, D]
      int vocab = plan.target().vocabularySize();
      requireShape(name, shape, vocab, d);
      return new Padded(
          zeroPadded(values, vocab, d, vocab, plan.target().dim()), vocab, plan.target().dim());
    }
    return null;
  }

  private static Padded clover(
      String name, float[] values, long[] shape, PadPlan plan, RandomGenerator random) {
    Matcher layer = LAYER.matcher(name);
    if (layer.matches()) {
      return layerTensor(layer.group(1), values, plan, random);
    }
    Matcher attention = CLOVER_ATTENTION.matcher(name);
    if (attention.matches()) {
      if (attention.group(1).equals("input_layernorm")) {
        return gain(name, values, shape, plan);
      }
      return name.endsWith(".bias")
          ? bias(name, values, shape, plan)
          : square(name, values, shape, plan);
    }
    return switch (name) {
      case "clover_norm.weight", "clover_head_norm.weight" -> gain(name, values, shape, plan);
      case "clover_head_mlp.weight" -> square(name, values, shape, plan);
      case "clover_head_mlp.bias", "clover_head_mlp2.bias" -> bias(name, values, shape, plan);
      case "clover_head_mlp2.weight" -> projector(name, values, shape, plan);
      default -> null;
    };
  }

  private static Padded kangaroo(
      String name, float[] values, long[] shape, PadPlan plan, RandomGenerator random) {
    Matcher layer = LAYER.matcher(name);
    if (layer.matches()) {
      return layerTensor(layer.group(1), values, plan, random);
    }
    return name.equals("norm.weight") ? gain(name, values, shape, plan) : null;
  }

  /** An RMSNorm gain: × √(d/D). */
  private static Padded gain(String name, float[] values, long[] shape, PadPlan plan) {
    requireShape(name, shape, plan.source().dim());
    int width = plan.target().dim();
    return new Padded(MatrixPadding.gain(values, width, plan.normScale()), width);
  }

  /** A bias of the hidden size: zeros appended. */
  private static Padded bias(String name, float[] values, long[] shape, PadPlan plan) {
    requireShape(name, shape, plan.source().dim());
    int width = plan.target().dim();
    return new Padded(MatrixPadding.zeroPadded(values, width), width);
  }

  /** A {@code [d, d]} matrix inside a head: zero rows and columns appended. */
  private static Padded square(String name, float[] values, long[] shape, PadPlan plan) {
    int d = plan.source().dim();
    requireShape(name, shape, d, d);
    int width = plan.target().dim();
    return new Padded(zeroPadded(values, d, d, width, width), width, width);
  }

  /**
   * Clover-2's projector {@code [out, in]} with {@code in = [state; embedding]}: each half widens.
   */
  private static Padded projector(String name, float[] values, long[] shape, PadPlan plan) {
    int d = plan.source().dim();
    requireShape(name, shape, d, 2L * d);
    int width = plan.target().dim();
    float[] state = zeroPadded(MatrixPadding.columns(values, d, 2 * d, 0, d), d, d, width, width);
    float[] token = zeroPadded(MatrixPadding.columns(values, d, 2 * d, d, d), d, d, width, width);
    return new Padded(MatrixPadding.besides(state, width, token, width, width), width, 2L * width);
  }

  private static void requireShape(String name, long[] shape, long... expected) {
    if (!Arrays.equals(shape, expected)) {
      throw new IllegalArgumentException(
          "tensor '"
              + name
              + "' has shape "
              + Arrays.toString(shape)
              + ", expected "
              + Arrays.toString(expected));
    }
  }

  /** A decoder layer's tensor, padded as the target's layers are; null for an unknown one. */
  private static Padded layerTensor(
      String suffix, float[] values, PadPlan plan, RandomGenerator random) {
    return LayerTensor.byHuggingFaceSuffix(suffix)
        .map(
            role ->
                new Padded(
                    role.pad(values, plan, random),
                    Arrays.stream(role.shape(plan.target())).asLongStream().toArray()))
        .orElse(null);
  }

  private static float[] zeroPadded(float[] values, int rows, int cols, int newRows, int newCols) {
    return MatrixPadding.pad(values, rows, cols, newRows, newCols, Fill.ZERO, Fill.ZERO, null);
  }

  /** The source's config with the padded target and, for Kangaroo, the padded exit layer. */
  private static ObjectNode config(
      DrafterKind kind, HeadCheckpoint source, PaddedModel model, String sourceFingerprint) {
    ObjectNode config = ((ObjectNode) source.config()).deepCopy();
    config.remove("format");
    config.remove("weights");
    config.put("kind", kind.id());
    LlamaConfig target = model.plan().target();
    ObjectNode targetNode = config.putObject("target");
    targetNode.put("model", model.path().getFileName().toString());
    targetNode.put("fingerprint", model.fingerprint());
    targetNode.put("dim", target.dim());
    targetNode.put("layers", target.layerCount());
    targetNode.put("vocab", target.vocabularySize());
    ObjectNode from = config.putObject("padded_from");
    from.put("model", source.config().path("target").path("model").asText(""));
    from.put("fingerprint", sourceFingerprint);
    from.put("dim", model.plan().source().dim());
    from.put("layers", model.plan().source().layerCount());
    if (kind == DrafterKind.KANGAROO) {
      int exit = source.config().path("exit_layer").asInt(DrafterKind.DEFAULT_EXIT_LAYER);
      from.put("exit_layer", exit);
      config.put("exit_layer", model.plan().paddedExitLayer(exit));
    }
    return config;
  }
}
