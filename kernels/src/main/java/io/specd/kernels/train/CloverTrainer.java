package io.specd.kernels.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.format.SafetensorsWriter;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.torch.TorchForward;
import io.specd.kernels.torch.TorchModel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Clover-2 self-distillation (the paper's objective): every head i regresses the target's post-norm
 * feature of the position it predicts from (SmoothL1, weight 10) and matches the target's
 * distribution there (soft cross-entropy, weight 1); heads are weighted {@code 0.7^i}. Heads after
 * the first are teacher-forced with the corpus tokens through the regressive connection. Whole
 * sequences are trained at once: the augmenting layers run causally over them without a cache.
 */
public final class CloverTrainer implements HeadTrainer {
  static final double DECAY = 0.7;
  static final float FEATURE_WEIGHT = 10f;

  private final LlamaModel model;
  private final TorchModel torch;
  private final CorpusSplit corpus;
  private final int heads;
  private final int sequences;
  private final NDManager manager;
  private final CloverWeights weights;
  private final TorchModel augmenting;
  private final NDArray embeddings; // [V, D]: W_lm rows, frozen

  /**
   * @param heads depth trained (the recurrent heads can draft deeper at inference)
   * @param augmentingLayers decoder layers in the augmenting block
   * @param sequences sequences per step
   */
  public CloverTrainer(
      LlamaModel model,
      CorpusSplit corpus,
      int heads,
      int augmentingLayers,
      int sequences,
      long seed) {
    this.model = model;
    this.torch = TorchModel.of(model);
    this.corpus = corpus;
    this.heads = heads;
    this.sequences = sequences;
    this.manager = torch.manager().newSubManager();
    this.weights = CloverWeights.initial(model, augmentingLayers, seed, manager);
    weights.parameters().forEach(p -> p.setRequiresGradient(true));
    this.augmenting =
        TorchModel.stack(
            model.config().withLayerCount(augmentingLayers),
            weights.augmenting(),
            manager.newSubManager());
    this.embeddings = torch.weights().lmHead().transpose().duplicate();
    embeddings.attach(manager);
  }

  @Override
  public String kind() {
    return "clover";
  }

  @Override
  public List<NDArray> parameters() {
    return weights.parameters();
  }

  /** The trained modules (for evaluation). */
  public CloverWeights weights() {
    return weights;
  }

  @Override
  public float step(SplittableRandom random) {
    int d = model.config().dim();
    List<DistillationCorpus.Sequence> batch = new ArrayList<>();
    int longest = 0;
    for (int b = 0; b < sequences; b++) {
      DistillationCorpus.Sequence s = corpus.randomTraining(random, heads + 3);
      batch.add(s);
      longest = Math.max(longest, s.length() - 1);
    }
    int rows = sequences * longest;
    float[] hidden = new float[rows * d];
    long[] next = new long[rows];
    long[][] forced = new long[heads][rows]; // token drafted at depth i (i >= 1)
    float[][] targets = new float[heads][rows * d];
    float[][] valid = new float[heads][rows];
    List<SequenceInput> inputs = new ArrayList<>();
    for (int b = 0; b < sequences; b++) {
      DistillationCorpus.Sequence s = batch.get(b);
      int n = s.length() - 1; // positions with a next token
      inputs.add(SequenceInput.stateless(null, n));
      int[] x = s.tokens();
      for (int t = 0; t < n; t++) {
        int row = b * longest + t;
        System.arraycopy(s.preNorm(), t * d, hidden, row * d, d);
        next[row] = x[t + 1];
        for (int i = 0; i < heads; i++) {
          if (t + 2 + i <= s.length() - 1) { // head i at t predicts token t+2+i
            valid[i][row] = 1f;
            System.arraycopy(s.postNorm(), (t + 1 + i) * d, targets[i], row * d, d);
            forced[i][row] = x[t + 1 + i];
          }
        }
      }
    }
    try (NDManager step = manager.newSubManager()) {
      NDArray input = step.create(hidden, new Shape(rows, d));
      NDArray nextEmbeddings = lookup(next, step);
      NDArray[] forcedEmbeddings = new NDArray[heads];
      NDArray[] targetFeatures = new NDArray[heads];
      NDArray[] targetProbabilities = new NDArray[heads];
      NDArray[] masks = new NDArray[heads];
      for (int i = 0; i < heads; i++) {
        forcedEmbeddings[i] = i == 0 ? null : lookup(forced[i], step);
        targetFeatures[i] = step.create(targets[i], new Shape(rows, d));
        targetProbabilities[i] = targetFeatures[i].matMul(torch.weights().lmHead()).softmax(-1);
        masks[i] = step.create(valid[i], new Shape(rows));
      }
      return Training.minimize(
          () -> {
            NDArray eps = torch.weights().rmsNormEps();
            int attentionHeads = model.config().headCount();
            NDArray fused =
                weights
                    .fuse()
                    .apply(
                        input,
                        weights.fuse().keysValues(nextEmbeddings, attentionHeads),
                        eps,
                        attentionHeads);
            NDArray augmented =
                TorchForward.forward(
                        augmenting,
                        inputs,
                        fused,
                        ForwardOptions.layers(
                            0, augmenting.config().layerCount(), ForwardOptions.Rows.ALL),
                        step)
                    .preNormHidden();
            NDArray state = TorchForward.rmsUnit(augmented, eps).mul(weights.cloverNorm());
            NDArray out = weights.firstHead(state, eps).mul(weights.headNorm());
            NDArray loss = headLoss(out, targetFeatures[0], targetProbabilities[0], masks[0]);
            for (int i = 1; i < heads; i++) {
              NDArray e = forcedEmbeddings[i];
              NDArray[] stepped =
                  weights.recurrentHead(
                      state,
                      weights.recurrent().keysValues(e, attentionHeads),
                      weights.projectTokens(e),
                      eps,
                      attentionHeads);
              state = stepped[0];
              out = stepped[1].mul(weights.headNorm());
              loss =
                  loss.add(
                      headLoss(out, targetFeatures[i], targetProbabilities[i], masks[i])
                          .mul((float) Math.pow(DECAY, i)));
            }
            return loss;
          });
    }
  }

  /** 10·SmoothL1(o, f) + CE(p_target, softmax(W_lm o)), averaged over the valid rows. */
  private NDArray headLoss(NDArray out, NDArray feature, NDArray probabilities, NDArray mask) {
    NDArray difference = out.sub(feature);
    NDArray magnitude = difference.abs();
    NDArray smoothL1 =
        NDArrays.where(magnitude.lt(1f), difference.square().mul(0.5f), magnitude.sub(0.5f))
            .mean(new int[] {-1}); // [rows]
    NDArray crossEntropy =
        probabilities
            .mul(out.matMul(torch.weights().lmHead()).logSoftmax(-1))
            .sum(new int[] {-1})
            .neg();
    NDArray perRow = smoothL1.mul(FEATURE_WEIGHT).add(crossEntropy).mul(mask);
    return perRow.sum().div(mask.sum().add(1e-6f));
  }

  private NDArray lookup(long[] tokens, NDManager step) {
    NDArray rows = embeddings.get(new NDIndex("{}", step.create(tokens)));
    rows.attach(step);
    return rows;
  }

  @Override
  public void export(SafetensorsWriter tensors, ObjectNode config) {
    weights.export(tensors, model.config());
    config.put("heads_trained", heads);
    config.put("augmenting_layers", weights.augmenting().size());
  }

  @Override
  public void close() {
    augmenting.close();
    manager.close();
  }
}
