package io.specd.kernels.torch;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.Linear;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.RopeRotations;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.llama.Transformer;
import io.specd.kernels.llama.WeightSource;
import java.util.Arrays;
import java.util.List;

/**
 * A LLaMA model (or a drafter's decoder stack) on a DJL device: the {@code torch} backend's {@link
 * Transformer}. It owns the NDManager that holds its weights. Head training reaches in here ({@link
 * #of}) for the device weights and the {@link TorchForward} pass with gradients.
 */
public final class TorchModel implements Transformer {
  private final LlamaConfig config;
  private final NDManager manager;
  private final TorchWeights weights;
  private final RopeRotations rope;
  private final Linear lmHead;
  private final float[] outputNorm;

  private TorchModel(LlamaConfig config, NDManager manager, TorchWeights weights) {
    this.config = config;
    this.manager = manager;
    this.weights = weights;
    this.rope = new RopeRotations(config);
    this.lmHead = weights.lmHead() == null ? null : new TorchLinear(weights.lmHead(), null);
    this.outputNorm = weights.outputNorm() == null ? null : weights.outputNorm().toFloatArray();
  }

  /** Loads a model's weights onto a device. */
  static TorchModel load(WeightSource source, Device device) {
    NDManager manager = NDManager.newBaseManager(device);
    manager.setName("specd-model");
    try {
      return new TorchModel(source.config(), manager, TorchWeights.load(source, manager));
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * A decoder stack over device layers (a drafter's own layers; trainers pass trainable ones).
   *
   * @param config the target's configuration with the stack's layer count
   * @param layers the stack's layers, created in {@code manager}
   * @param manager a manager the stack owns from now on
   */
  public static TorchModel stack(LlamaConfig config, List<LayerWeights> layers, NDManager manager) {
    NDArray eps = manager.create(config.rmsNormEps());
    return new TorchModel(config, manager, TorchWeights.stack(layers, eps));
  }

  /**
   * The torch side of a model.
   *
   * @throws IllegalArgumentException if the model runs on another backend
   */
  public static TorchModel of(LlamaModel model) {
    if (!(model.transformer() instanceof TorchModel torch)) {
      throw new IllegalArgumentException(
          "this needs the model on the torch backend, not " + model.backend().name());
    }
    return torch;
  }

  @Override
  public LlamaConfig config() {
    return config;
  }

  public TorchWeights weights() {
    return weights;
  }

  public RopeRotations rope() {
    return rope;
  }

  /** The manager that owns the weights; per-step managers hang below it. */
  public NDManager manager() {
    return manager;
  }

  @Override
  public ForwardResult forward(
      List<SequenceInput> sequences, float[] inputHidden, ForwardOptions options) {
    int[] firstRows = new int[sequences.size() + 1];
    int longest = 0;
    for (int b = 0; b < sequences.size(); b++) {
      firstRows[b + 1] = firstRows[b] + sequences.get(b).size();
      longest = Math.max(longest, sequences.get(b).size());
    }
    try (NDManager step = manager.newSubManager()) {
      NDArray hidden =
          inputHidden == null ? null : padded(inputHidden, sequences, firstRows, longest, step);
      TorchOutputs out = TorchForward.forward(this, sequences, hidden, options, step);
      float[][] residuals = new float[options.toLayer() + 1][];
      out.residuals().forEach((layers, array) -> residuals[layers] = host(array, out, firstRows));
      return new ForwardResult(
          options.rows(),
          firstRows,
          config.vocabularySize(),
          config.dim(),
          host(out.logits(), out, firstRows),
          host(out.postNormHidden(), out, firstRows),
          host(out.preNormHidden(), out, firstRows),
          residuals);
    }
  }

  /** Unpadded host rows ({@code [Σn, width]} for ALL, {@code [B, width]} for LAST), or null. */
  private static float[] host(NDArray array, TorchOutputs out, int[] firstRows) {
    if (array == null) {
      return null;
    }
    float[] padded = array.toFloatArray();
    if (out.rows() == ForwardOptions.Rows.LAST || out.batchSize() == 1) {
      return padded;
    }
    int width = (int) array.getShape().get(1);
    float[] rows = new float[firstRows[out.batchSize()] * width];
    for (int b = 0; b < out.batchSize(); b++) {
      int n = firstRows[b + 1] - firstRows[b];
      System.arraycopy(padded, out.row(b, 0) * width, rows, firstRows[b] * width, n * width);
    }
    return rows;
  }

  /** {@code [Σn, D]} host rows to the forward's padded {@code [B·M, D]}. */
  private NDArray padded(
      float[] hidden, List<SequenceInput> sequences, int[] firstRows, int longest, NDManager step) {
    int d = config.dim();
    if (sequences.size() == 1) {
      float[] rows =
          hidden.length == firstRows[1] * d ? hidden : Arrays.copyOf(hidden, firstRows[1] * d);
      return step.create(rows, new Shape(firstRows[1], d));
    }
    float[] padded = new float[sequences.size() * longest * d];
    for (int b = 0; b < sequences.size(); b++) {
      int n = firstRows[b + 1] - firstRows[b];
      System.arraycopy(hidden, firstRows[b] * d, padded, b * longest * d, n * d);
    }
    return step.create(padded, new Shape((long) sequences.size() * longest, d));
  }

  @Override
  public KvCachePool newCachePool(int slots, int capacity) {
    return new TorchKvCachePool(config, manager, slots, capacity);
  }

  @Override
  public Linear lmHead() {
    return lmHead;
  }

  @Override
  public float[] outputNorm() {
    return outputNorm == null ? null : outputNorm.clone();
  }

  @Override
  public void close() {
    manager.close();
  }
}
