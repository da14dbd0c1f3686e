package io.specd.kernels.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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
 * Kangaroo self-distillation: the adapter reads the residual stream after the exit layer and learns
 * the full model's next-token distribution at the same position (soft cross-entropy against {@code
 * softmax(W_lm f_t)}), attending causally over whole corpus sequences.
 */
public final class KangarooTrainer implements HeadTrainer {
  private final LlamaModel model;
  private final TorchModel torch;
  private final CorpusSplit corpus;
  private final int sequences;
  private final NDManager manager;
  private final KangarooWeights weights;
  private final TorchModel adapter;

  /**
   * @param exitLayer target layers the draft runs before the adapter (the corpus must record the
   *     residual stream after it)
   * @param sequences sequences per step
   */
  public KangarooTrainer(LlamaModel model, CorpusSplit corpus, int exitLayer, int sequences) {
    this.model = model;
    this.torch = TorchModel.of(model);
    this.corpus = corpus;
    this.sequences = sequences;
    this.manager = torch.manager().newSubManager();
    this.weights = KangarooWeights.initial(model, exitLayer, manager);
    weights.parameters().forEach(p -> p.setRequiresGradient(true));
    this.adapter =
        TorchModel.stack(
            model.config().withLayerCount(1),
            List.of(weights.attention()),
            manager.newSubManager());
  }

  @Override
  public String kind() {
    return "kangaroo";
  }

  @Override
  public List<NDArray> parameters() {
    return weights.parameters();
  }

  @Override
  public float step(SplittableRandom random) {
    int d = model.config().dim();
    List<DistillationCorpus.Sequence> batch = new ArrayList<>();
    int longest = 0;
    for (int b = 0; b < sequences; b++) {
      DistillationCorpus.Sequence s = corpus.randomTraining(random, 2);
      if (s.shallow() == null) {
        throw new IllegalStateException("the corpus did not record the exit layer's residual");
      }
      batch.add(s);
      longest = Math.max(longest, s.length());
    }
    int rows = sequences * longest;
    float[] shallow = new float[rows * d];
    float[] features = new float[rows * d];
    float[] valid = new float[rows];
    List<SequenceInput> inputs = new ArrayList<>();
    for (int b = 0; b < sequences; b++) {
      DistillationCorpus.Sequence s = batch.get(b);
      inputs.add(SequenceInput.stateless(null, s.length()));
      System.arraycopy(s.shallow(), 0, shallow, b * longest * d, s.length() * d);
      System.arraycopy(s.postNorm(), 0, features, b * longest * d, s.length() * d);
      java.util.Arrays.fill(valid, b * longest, b * longest + s.length(), 1f);
    }
    try (NDManager step = manager.newSubManager()) {
      NDArray input = step.create(shallow, new Shape(rows, d));
      NDArray target =
          step.create(features, new Shape(rows, d)).matMul(torch.weights().lmHead()).softmax(-1);
      NDArray mask = step.create(valid, new Shape(rows));
      return Training.minimize(
          () -> {
            NDArray out =
                TorchForward.forward(
                        adapter,
                        inputs,
                        input,
                        ForwardOptions.layers(0, 1, ForwardOptions.Rows.ALL),
                        step)
                    .preNormHidden();
            NDArray logits =
                TorchForward.rmsUnit(out, torch.weights().rmsNormEps())
                    .mul(weights.norm())
                    .matMul(torch.weights().lmHead());
            NDArray crossEntropy = target.mul(logits.logSoftmax(-1)).sum(new int[] {-1}).neg();
            return crossEntropy.mul(mask).sum().div(mask.sum());
          });
    }
  }

  @Override
  public void export(SafetensorsWriter tensors, ObjectNode config) {
    weights.export(tensors, model.config());
    config.put("exit_layer", weights.exitLayer());
  }

  @Override
  public void close() {
    adapter.close();
    manager.close();
  }
}
