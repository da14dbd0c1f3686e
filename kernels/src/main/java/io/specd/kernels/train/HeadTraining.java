package io.specd.kernels.train;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.format.SafetensorsFile;
import io.specd.kernels.format.SafetensorsWriter;
import io.specd.kernels.heads.HeadCheckpoint;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.torch.TorchModel;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * The training loop shared by every head kind: AdamW with a linear warm-up then cosine decay,
 * seeded minibatches (the generator of step s is seeded from the run's seed and s), a checkpoint
 * every N steps, and exact resumption from the last training state.
 *
 * <p>Files for an output {@code heads.json}: the checkpoint ({@code heads.json} and {@code
 * heads.safetensors}, written at every checkpoint and at the end) and the training state ({@code
 * heads.state.safetensors}: parameters, optimizer moments, step), which a later run with the same
 * output resumes from.
 */
public final class HeadTraining {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Loop settings.
   *
   * @param steps optimizer steps in total (a resumed run continues up to it)
   * @param learningRate peak learning rate
   * @param warmupSteps linear warm-up length
   * @param seed seeds the minibatches (the corpus has its own seed)
   * @param checkpointEvery steps between checkpoints (0: only at the end)
   */
  public record Settings(
      int steps, float learningRate, int warmupSteps, long seed, int checkpointEvery) {
    public Settings {
      if (steps < 1 || !(learningRate > 0) || warmupSteps < 0 || checkpointEvery < 0) {
        throw new IllegalArgumentException(
            "training needs steps >= 1, a positive learning rate, warm-up and checkpoint >= 0");
      }
    }

    /** The learning rate at a step: linear warm-up, then cosine decay to a tenth. */
    float learningRate(int step) {
      if (step < warmupSteps) {
        return learningRate * (step + 1) / warmupSteps;
      }
      double progress = (double) (step - warmupSteps) / Math.max(1, steps - warmupSteps);
      return (float) (learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress))));
    }
  }

  /** Progress reports. */
  public interface Listener {
    void step(int step, int total, float loss);

    void checkpoint(int step, Path checkpoint);
  }

  private HeadTraining() {}

  /**
   * Trains, resuming from {@code out}'s training state if there is one, and writes the checkpoint.
   *
   * @param trainer the head kind's trainer (its parameters are updated in place)
   * @param out the checkpoint config path ({@code .json})
   * @param describe extra config to record (corpus, settings), merged into the checkpoint
   * @return the checkpoint path
   */
  public static Path run(
      LlamaModel model,
      HeadTrainer trainer,
      Settings settings,
      Path out,
      ObjectNode describe,
      Listener listener)
      throws IOException {
    Path state = out.resolveSibling(base(out) + ".state.safetensors");
    List<NDArray> parameters = trainer.parameters();
    try (AdamW optimizer =
        new AdamW(
            parameters, TorchModel.of(model).manager().newSubManager(), 0.9f, 0.95f, 1e-8f, 0.0f)) {
      int start = Files.isRegularFile(state) ? restore(state, trainer, parameters, optimizer) : 0;
      for (int step = start; step < settings.steps(); step++) {
        float loss = trainer.step(new SplittableRandom(settings.seed() * 7_919L + step));
        optimizer.step(settings.learningRate(step));
        listener.step(step + 1, settings.steps(), loss);
        boolean last = step + 1 == settings.steps();
        if (last
            || (settings.checkpointEvery() > 0 && (step + 1) % settings.checkpointEvery() == 0)) {
          save(model, trainer, parameters, optimizer, out, state, describe, step + 1);
          listener.checkpoint(step + 1, out);
        }
      }
      if (start >= settings.steps()) { // nothing left to train: still (re)write the checkpoint
        save(model, trainer, parameters, optimizer, out, state, describe, start);
      }
    }
    return out;
  }

  private static void save(
      LlamaModel model,
      HeadTrainer trainer,
      List<NDArray> parameters,
      AdamW optimizer,
      Path out,
      Path state,
      ObjectNode describe,
      int step)
      throws IOException {
    SafetensorsWriter tensors = new SafetensorsWriter();
    ObjectNode config = JSON.createObjectNode();
    config.put("kind", trainer.kind());
    config.set("target", HeadCheckpoint.target(model));
    trainer.export(tensors, config);
    ObjectNode training = describe.deepCopy();
    training.put("steps_done", step);
    config.set("training", training);
    HeadCheckpoint.write(out, config, tensors);

    SafetensorsWriter saved = new SafetensorsWriter().metadata("step", Integer.toString(step));
    float[][] moments = optimizer.state();
    for (int i = 0; i < parameters.size(); i++) {
      NDArray p = parameters.get(i);
      saved.put("parameter." + i, p.toFloatArray(), p.getShape().getShape());
      saved.put("mean." + i, moments[i], p.getShape().getShape());
      saved.put("variance." + i, moments[parameters.size() + i], p.getShape().getShape());
    }
    saved.metadata("kind", trainer.kind()).write(state);
  }

  private static int restore(
      Path state, HeadTrainer trainer, List<NDArray> parameters, AdamW optimizer) {
    SafetensorsFile file = SafetensorsFile.open(state);
    if (!trainer.kind().equals(file.metadata().get("kind"))) {
      throw new IllegalArgumentException(
          state
              + " is the training state of "
              + file.metadata().get("kind")
              + " heads, not "
              + trainer.kind());
    }
    Function<String, float[]> read = file::readFloats;
    float[][] moments = new float[2 * parameters.size()][];
    for (int i = 0; i < parameters.size(); i++) {
      parameters.get(i).set(FloatBuffer.wrap(read.apply("parameter." + i)));
      moments[i] = read.apply("mean." + i);
      moments[parameters.size() + i] = read.apply("variance." + i);
    }
    int step = Integer.parseInt(file.metadata().get("step"));
    optimizer.restore(moments, step);
    return step;
  }

  private static String base(Path out) {
    return out.getFileName().toString().replaceFirst("\\.json$", "");
  }
}
