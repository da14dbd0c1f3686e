package io.specd.kernels.pad;

import io.specd.kernels.format.GgmlType;
import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.GgufFileWriter;
import io.specd.kernels.format.GgufTensorInfo;
import io.specd.kernels.format.GgufValue;
import io.specd.kernels.format.GgufValueType;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.format.TensorEncoder;
import io.specd.kernels.llama.Fingerprint;
import io.specd.kernels.llama.GgufWeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pads a LLaMA GGUF model into a wider and deeper one with the same greedy output (see {@link
 * PadPlan} and {@link LayerTensor} for what goes where). The token embedding keeps zeros in its new
 * columns, so the residual stream's extra dimensions start and stay exactly zero; the LM head gets
 * random new columns, which multiply those zeros.
 *
 * <p>The file is streamed tensor by tensor: only the source tensor being padded and its padded copy
 * are in memory. Works on host float arrays only.
 */
public final class ModelPadder {
  private static final Pattern LAYER = Pattern.compile("blk\\.(\\d+)\\.(.+)");
  private static final int FILE_TYPE_ALL_F32 = 0;
  private static final int FILE_TYPE_MOSTLY_Q8_0 = 7;
  private static final int QUANTIZATION_VERSION = 2;

  /** One tensor of the padded file and how to compute it. */
  private record PaddedTensor(GgufFileWriter.TensorSpec spec, Supplier<float[]> values) {}

  private final PadPlan plan;
  private final Map<String, GgufValue> metadata;
  private final List<PaddedTensor> tensors;

  private ModelPadder(PadPlan plan, Map<String, GgufValue> metadata, List<PaddedTensor> tensors) {
    this.plan = plan;
    this.metadata = metadata;
    this.tensors = tensors;
  }

  /**
   * Lays out the padded file of {@code source}: its metadata and every tensor's shape and type.
   *
   * @param plan made from the source's configuration
   * @throws ModelFormatException if the source has a tensor that padding does not know
   */
  public static ModelPadder of(Path source, PadPlan plan) {
    GgufFile file = GgufFile.open(source);
    String sourceFingerprint = Fingerprint.of(GgufWeightSource.open(source));
    List<PaddedTensor> tensors = new ArrayList<>();
    List<LayerTensor> layerOrder = new ArrayList<>();
    for (GgufTensorInfo info : file.tensors().values()) {
      Matcher layer = LAYER.matcher(info.name());
      if (!layer.matches()) {
        tensors.add(global(file, info, plan));
        continue;
      }
      LayerTensor role =
          LayerTensor.byGgufSuffix(layer.group(2)).orElseThrow(() -> unknown(file, info.name()));
      if (layer.group(1).equals("0")) {
        layerOrder.add(role);
      }
    }
    for (int padded = 0; padded < plan.target().layerCount(); padded++) {
      int real = plan.sourceLayerAt(padded);
      for (LayerTensor role : layerOrder) {
        String name = "blk." + padded + "." + role.ggufSuffix();
        String sourceName = "blk." + real + "." + role.ggufSuffix();
        Supplier<float[]> values =
            real < 0
                ? () -> role.dead(plan, plan.randomFor(name))
                : () -> role.pad(file.readFloats(sourceName), plan, plan.randomFor(name));
        tensors.add(new PaddedTensor(spec(name, role.shape(plan.target()), plan), values));
      }
    }
    return new ModelPadder(plan, metadata(file, plan, sourceFingerprint), tensors);
  }

  /** The number of weights the padded file holds. */
  public long parameterCount() {
    return tensors.stream().mapToLong(t -> t.spec().elementCount()).sum();
  }

  /**
   * Writes the padded model.
   *
   * @param out the GGUF file to write (replaced if it exists; nothing is left there on failure)
   * @param progress told the number of weights of each tensor once it is written
   */
  public PaddedModel write(Path out, LongConsumer progress) throws IOException {
    List<GgufFileWriter.TensorSpec> specs = tensors.stream().map(PaddedTensor::spec).toList();
    try (GgufFileWriter writer = GgufFileWriter.create(out, metadata, specs)) {
      for (PaddedTensor tensor : tensors) {
        writer.write(tensor.spec().name(), precision(tensor.spec(), tensor.values().get()));
        progress.accept(tensor.spec().elementCount());
      }
      writer.finish();
    }
    return new PaddedModel(
        out, parameterCount(), Files.size(out), Fingerprint.of(GgufWeightSource.open(out)), plan);
  }

  /**
   * A Q8_0 model's matrices all have Q8_0 precision: one whose rows are not whole blocks is stored
   * F32 but holds Q8_0's values (its rows' last blocks completed with zeros). The source's values
   * inside a padded row then equal those of the unpadded Q8_0 model (where the padding zeros
   * complete the same block), whether or not the padded row is whole blocks.
   */
  private float[] precision(GgufFileWriter.TensorSpec spec, float[] values) {
    long[] dimensions = spec.dimensions();
    if (plan.type() != GgmlType.Q8_0 || spec.type() == GgmlType.Q8_0 || dimensions.length < 2) {
      return values;
    }
    return TensorEncoder.roundedToQ8(values, (int) dimensions[0]);
  }

  /** The embedding, the final norm and the LM head. */
  private static PaddedTensor global(GgufFile file, GgufTensorInfo info, PadPlan plan) {
    String name = info.name();
    int vocab = plan.target().vocabularySize();
    int dim = plan.source().dim();
    int width = plan.target().dim();
    Supplier<float[]> values =
        switch (name) {
          // the residual stream starts with zeros in its extra dimensions
          case "token_embd.weight" ->
              () ->
                  MatrixPadding.pad(
                      file.readFloats(name), vocab, dim, vocab, width, Fill.ZERO, Fill.ZERO, null);
          case "output.weight" ->
              () ->
                  MatrixPadding.pad(
                      file.readFloats(name),
                      vocab,
                      dim,
                      vocab,
                      width,
                      Fill.RANDOM,
                      Fill.ZERO,
                      plan.randomFor(name));
          case "output_norm.weight" ->
              () -> MatrixPadding.gain(file.readFloats(name), width, plan.normScale());
          default -> throw unknown(file, name);
        };
    int[] shape = name.equals("output_norm.weight") ? new int[] {width} : new int[] {vocab, width};
    return new PaddedTensor(spec(name, shape, plan), values);
  }

  /** F32 for gains; the plan's type for matrices whose rows are whole blocks of it. */
  private static GgufFileWriter.TensorSpec spec(String name, int[] rowMajorShape, PadPlan plan) {
    if (rowMajorShape.length == 1) {
      return new GgufFileWriter.TensorSpec(name, GgmlType.F32, new long[] {rowMajorShape[0]});
    }
    long rowLength = rowMajorShape[1];
    GgmlType type = rowLength % plan.type().blockSize() == 0 ? plan.type() : GgmlType.F32;
    return new GgufFileWriter.TensorSpec(name, type, new long[] {rowLength, rowMajorShape[0]});
  }

  /** The source's metadata with the padded sizes, kept in their stored types. */
  private static Map<String, GgufValue> metadata(
      GgufFile file, PadPlan plan, String sourceFingerprint) {
    Map<String, GgufValue> metadata = new LinkedHashMap<>(file.typedMetadata());
    String prefix = file.string("general.architecture") + ".";
    var target = plan.target();
    setInteger(metadata, prefix + "embedding_length", target.dim());
    setInteger(metadata, prefix + "feed_forward_length", target.ffnDim());
    setInteger(metadata, prefix + "block_count", target.layerCount());
    setInteger(metadata, prefix + "attention.head_count", target.headCount());
    setInteger(metadata, prefix + "attention.head_count_kv", target.kvHeadCount());
    metadata.put(
        prefix + "attention.layer_norm_rms_epsilon", GgufValue.float32(target.rmsNormEps()));
    String name = file.optionalString("general.name").orElse("model");
    metadata.put(
        "general.name",
        GgufValue.string(
            name
                + " padded to width "
                + target.dim()
                + ", ffn "
                + target.ffnDim()
                + ", "
                + target.layerCount()
                + " layers"));
    boolean quantized = plan.type() == GgmlType.Q8_0;
    setInteger(
        metadata, "general.file_type", quantized ? FILE_TYPE_MOSTLY_Q8_0 : FILE_TYPE_ALL_F32);
    if (quantized) {
      setInteger(metadata, "general.quantization_version", QUANTIZATION_VERSION);
    }
    long[] realLayers = new long[plan.source().layerCount()];
    for (int i = 0; i < realLayers.length; i++) {
      realLayers[i] = plan.realLayers()[i];
    }
    metadata.put("specd.padding.real_layers", GgufValue.int32Array(realLayers));
    metadata.put("specd.padding.source_fingerprint", GgufValue.string(sourceFingerprint));
    return metadata;
  }

  /** Sets an integer, keeping the type the source stored it as (uint32 when new). */
  private static void setInteger(Map<String, GgufValue> metadata, String key, long value) {
    GgufValue old = metadata.get(key);
    metadata.put(
        key,
        old == null || old.type() == GgufValueType.ARRAY
            ? GgufValue.uint32(value)
            : new GgufValue(old.type(), null, value));
  }

  private static ModelFormatException unknown(GgufFile file, String tensor) {
    return new ModelFormatException(
        file.path(), "pad does not know how to widen tensor '" + tensor + "'");
  }
}
