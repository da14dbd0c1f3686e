package io.specd.kernels.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.format.SafetensorsWriter;
import io.specd.kernels.heads.medusa.LatticeRescorer;
import io.specd.kernels.heads.medusa.MedusaHeads;
import io.specd.kernels.heads.medusa.MedusaTree;
import io.specd.kernels.heads.medusa.NgramModel;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.sample.Sampler;
import io.specd.kernels.torch.LayerWeights;
import io.specd.kernels.torch.TorchModel;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Medusa-1 self-distillation with a frozen target: head k learns the token k+2 ahead from the
 * post-norm hidden state at t, by cross-entropy against the target's own distribution at t+k+1
 * (soft labels: what the target believes there, rather than the one token the corpus sampled),
 * weighted {@code 0.8^k} (Medusa's decay). Blocks start as the identity (W = 0). The tree is then
 * calibrated from each head's measured top-i agreement with the target's argmax on held-out
 * sequences (the Medusa recipe).
 */
public final class MedusaTrainer implements HeadTrainer {
  static final double DECAY = 0.8;
  static final int CALIBRATION_RANKS = 10;

  private final LlamaModel model;
  private final TorchModel torch;
  private final CorpusSplit corpus;
  private final int heads;
  private final int batch;
  private final int treeNodes;
  private final NDManager manager;
  private final NDArray[] weights; // per block [K, D, D], each head's Wᵀ
  private final NDArray[] biases; // per block [K, 1, D]
  private final NDArray lmHeads; // [K, D, V] own LM heads, or null to share the target's
  private final NDArray decay; // [K, 1, 1]

  /**
   * @param heads number of heads (the deepest draft)
   * @param blocks residual blocks per head
   * @param ownLmHeads give each head its own LM head (Medusa-1), initialised from the target's
   * @param batch positions per step
   * @param treeNodes size of the calibrated tree
   */
  public MedusaTrainer(
      LlamaModel model,
      CorpusSplit corpus,
      int heads,
      int blocks,
      boolean ownLmHeads,
      int batch,
      int treeNodes) {
    this.model = model;
    this.torch = TorchModel.of(model);
    this.corpus = corpus;
    this.heads = heads;
    this.batch = batch;
    this.treeNodes = treeNodes;
    int dim = model.config().dim();
    this.manager = torch.manager().newSubManager();
    this.weights = new NDArray[blocks];
    this.biases = new NDArray[blocks];
    for (int j = 0; j < blocks; j++) {
      weights[j] = manager.zeros(new Shape(heads, dim, dim));
      biases[j] = manager.zeros(new Shape(heads, 1, dim));
    }
    this.lmHeads =
        ownLmHeads ? torch.weights().lmHead().expandDims(0).repeat(0, heads).duplicate() : null;
    if (lmHeads != null) {
      lmHeads.attach(manager);
    }
    float[] w = new float[heads];
    for (int k = 0; k < heads; k++) {
      w[k] = (float) Math.pow(DECAY, k);
    }
    this.decay = manager.create(w, new Shape(heads, 1, 1));
    parameters().forEach(p -> p.setRequiresGradient(true));
  }

  @Override
  public String kind() {
    return "medusa";
  }

  @Override
  public List<NDArray> parameters() {
    List<NDArray> all = new java.util.ArrayList<>(List.of(weights));
    all.addAll(List.of(biases));
    if (lmHeads != null) {
      all.add(lmHeads);
    }
    return all;
  }

  @Override
  public float step(SplittableRandom random) {
    int dim = model.config().dim();
    float[] hidden = new float[batch * dim];
    float[] later = new float[heads * batch * dim]; // [K, B, D]: post-norm states at t+k+1
    for (int i = 0; i < batch; i++) {
      DistillationCorpus.Sequence s = corpus.randomTraining(random, heads + 2);
      int t = random.nextInt(s.length() - heads - 1);
      System.arraycopy(s.postNorm(), t * dim, hidden, i * dim, dim);
      for (int k = 0; k < heads; k++) {
        System.arraycopy(s.postNorm(), (t + k + 1) * dim, later, (k * batch + i) * dim, dim);
      }
    }
    try (NDManager step = manager.newSubManager()) {
      NDArray input = step.create(hidden, new Shape(batch, dim));
      // soft labels: the target's distribution of the token each head predicts, [K, B, V]
      NDArray labels =
          step.create(later, new Shape(heads, batch, dim))
              .matMul(torch.weights().lmHead())
              .softmax(-1);
      return Training.minimize(
          () -> {
            NDArray logits =
                forward(
                    input, weights, biases, lmHeads != null ? lmHeads : torch.weights().lmHead());
            // Σ_k 0.8^k · CE(p_target, q_k), averaged over positions
            NDArray crossEntropy = labels.mul(logits.logSoftmax(-1)).sum(new int[] {-1}, true);
            return crossEntropy.mul(decay).mean().neg().mul(heads);
          });
    }
  }

  @Override
  public void export(SafetensorsWriter tensors, ObjectNode config) {
    int dim = model.config().dim();
    int vocab = model.config().vocabularySize();
    int blocks = weights.length;
    float[][][] w = new float[blocks][heads][];
    float[][][] b = new float[blocks][heads][];
    for (int j = 0; j < blocks; j++) {
      float[] stacked = weights[j].toFloatArray();
      float[] bias = biases[j].toFloatArray();
      for (int k = 0; k < heads; k++) {
        // stored transposed ([in, out]); the checkpoint holds PyTorch's [out, in]
        w[j][k] =
            LayerWeights.transpose(
                java.util.Arrays.copyOfRange(stacked, k * dim * dim, (k + 1) * dim * dim),
                dim,
                dim);
        b[j][k] = java.util.Arrays.copyOfRange(bias, k * dim, (k + 1) * dim);
        tensors.put(k + "." + j + ".linear.weight", w[j][k], dim, dim);
        tensors.put(k + "." + j + ".linear.bias", b[j][k], dim);
      }
    }
    float[][] own = null;
    if (lmHeads != null) {
      float[] stacked = lmHeads.toFloatArray(); // [K, D, V]
      own = new float[heads][];
      for (int k = 0; k < heads; k++) {
        own[k] =
            LayerWeights.transpose(
                java.util.Arrays.copyOfRange(stacked, k * dim * vocab, (k + 1) * dim * vocab),
                dim,
                vocab);
        tensors.put(k + "." + blocks + ".weight", own[k], vocab, dim);
      }
    }
    double[][] accuracy;
    try (MedusaHeads trained = MedusaHeads.create(model, w, b, own)) {
      accuracy = topAccuracy(trained);
    }
    config.set("tree", MedusaTree.calibrate(accuracy, treeNodes).toJson());
    // block-draft refinement: an n-gram model of the target's own text
    NgramModel.count(
            corpus.training().stream().map(DistillationCorpus.Sequence::tokens).toList(), vocab)
        .export(tensors);
    ObjectNode refinement = config.putObject("refinement");
    refinement.put("weight", LatticeRescorer.DEFAULT_WEIGHT);
    refinement.put("paths", LatticeRescorer.DEFAULT_PATHS);
    ArrayNode calibration = config.putArray("top_accuracy");
    for (double[] head : accuracy) {
      ArrayNode row = calibration.addArray();
      for (double a : head) {
        row.add(Math.round(a * 10000) / 10000.0);
      }
    }
  }

  /**
   * The heads' computation on the device, with gradients ({@link MedusaHeads} runs it at
   * inference).
   *
   * @param hidden {@code [N, D]}
   * @param weights per block {@code [K, D, D]} (transposed)
   * @param biases per block {@code [K, 1, D]}
   * @param lmHead {@code [D, V]} shared or {@code [K, D, V]} per head
   * @return {@code [K, N, V]}
   */
  private static NDArray forward(
      NDArray hidden, NDArray[] weights, NDArray[] biases, NDArray lmHead) {
    NDArray u = hidden; // broadcast to [K, N, D] by the first block
    for (int j = 0; j < weights.length; j++) {
      NDArray z = u.matMul(weights[j]).add(biases[j]); // [K, N, D]
      u = u.add(z.mul(z.getNDArrayInternal().sigmoid()));
    }
    return u.matMul(lmHead);
  }

  /**
   * Per head, the fraction of held-out positions where its rank-i token is the target's own choice
   * there (its argmax), as greedy verification judges it.
   */
  double[][] topAccuracy(MedusaHeads trained) {
    int vocab = model.config().vocabularySize();
    long[][] hits = new long[heads][CALIBRATION_RANKS];
    long positions = 0;
    for (DistillationCorpus.Sequence s : corpus.heldOut()) {
      int usable = s.length() - heads - 1;
      if (usable <= 0) {
        continue;
      }
      float[] logits = new float[heads * usable * vocab]; // [K, usable, V]
      trained.logits(s.postNorm(), 0, usable, logits);
      float[] targetLogits = new float[s.length() * vocab]; // [T, V]
      model.lmHead().apply(s.postNorm(), 0, s.length(), targetLogits, 0);
      int[] choices = new int[s.length()];
      for (int t = 0; t < s.length(); t++) {
        choices[t] = Sampler.argmax(targetLogits, t * vocab, vocab);
      }
      for (int t = 0; t < usable; t++) {
        for (int k = 0; k < heads; k++) {
          var ranked =
              io.specd.kernels.heads.DraftDistribution.of(
                  logits, (k * usable + t) * vocab, vocab, CALIBRATION_RANKS);
          int truth = choices[t + k + 1];
          for (int i = 0; i < CALIBRATION_RANKS; i++) {
            if (ranked.token(i) == truth) {
              hits[k][i]++;
            }
          }
        }
        positions++;
      }
    }
    double[][] accuracy = new double[heads][CALIBRATION_RANKS];
    for (int k = 0; k < heads; k++) {
      for (int i = 0; i < CALIBRATION_RANKS; i++) {
        // a small floor keeps never-seen ranks orderable
        accuracy[k][i] = (hits[k][i] + 0.01) / (positions + 1.0);
      }
    }
    return accuracy;
  }

  @Override
  public void close() {
    manager.close();
  }
}
