package io.specd.kernels.heads.medusa;

import io.specd.kernels.cpu.VectorMath;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.heads.HeadCheckpoint;
import io.specd.kernels.llama.Linear;
import io.specd.kernels.llama.LlamaModel;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Medusa heads on the model's backend. Head k maps the target's post-norm last hidden state f to
 * the distribution of the token k+2 positions ahead: {@code u ← u + SiLU(W u + b)} for each of its
 * residual blocks (starting from u = f), then the LM head (the target's, shared, or the head's
 * own). The products run on the backend; biases and SiLU on the host.
 *
 * <p>Checkpoint layout (FasterDecoding's): {@code {k}.{j}.linear.weight [D, D]}, {@code
 * {k}.{j}.linear.bias [D]} for blocks {@code j < n}, and optionally {@code {k}.{n}.weight [V, D]}
 * (the head's own LM head). The head and block counts come from the keys.
 *
 * <p>Not thread-safe (it keeps scratch rows).
 */
public final class MedusaHeads implements AutoCloseable {
  private static final Pattern LINEAR = Pattern.compile("(\\d+)\\.(\\d+)\\.linear\\.weight");

  private final int count;
  private final int dim;
  private final int vocab;
  private final Linear[][] weights; // [block][head]: W [D, D]
  private final float[][][] biases; // [block][head]: b [D]
  private final Linear[] ownLmHeads; // [head]: [V, D], or null to share the target's
  private final Linear sharedLmHead;
  private float[] state = new float[0]; // u: [rows, D]
  private float[] block = new float[0]; // W u + b: [rows, D]

  private MedusaHeads(
      int dim,
      int vocab,
      Linear[][] weights,
      float[][][] biases,
      Linear[] ownLmHeads,
      Linear sharedLmHead) {
    this.count = weights[0].length;
    this.dim = dim;
    this.vocab = vocab;
    this.weights = weights;
    this.biases = biases;
    this.ownLmHeads = ownLmHeads;
    this.sharedLmHead = sharedLmHead;
  }

  /**
   * Loads heads from a checkpoint, strictly: every missing or mis-shaped tensor is named.
   *
   * @throws io.specd.kernels.format.ModelFormatException if the heads do not fit the model
   */
  public static MedusaHeads load(HeadCheckpoint checkpoint, LlamaModel model) {
    int dim = model.config().dim();
    int vocab = model.config().vocabularySize();
    Set<Integer> heads = new TreeSet<>();
    Set<Integer> blocks = new TreeSet<>();
    for (String name : checkpoint.tensorNames()) {
      Matcher m = LINEAR.matcher(name);
      if (m.matches()) {
        heads.add(Integer.parseInt(m.group(1)));
        blocks.add(Integer.parseInt(m.group(2)));
      }
    }
    if (heads.isEmpty()) {
      throw new ModelFormatException(
          checkpoint.path(), "no Medusa head tensors ({k}.{j}.linear.weight) in the checkpoint");
    }
    HeadCheckpoint.Reader reader = checkpoint.reader();
    int count = Collections.max(heads) + 1;
    int blockCount = Collections.max(blocks) + 1;
    boolean own = checkpoint.tensorNames().contains("0." + blockCount + ".weight");
    float[][][] w = new float[blockCount][count][];
    float[][][] b = new float[blockCount][count][];
    float[][] lm = own ? new float[count][] : null;
    for (int k = 0; k < count; k++) {
      for (int j = 0; j < blockCount; j++) {
        w[j][k] = reader.read(k + "." + j + ".linear.weight", dim, dim);
        b[j][k] = reader.read(k + "." + j + ".linear.bias", dim);
      }
      if (own) {
        lm[k] = reader.read(k + "." + blockCount + ".weight", vocab, dim);
      }
    }
    reader.finish();
    return create(model, w, b, lm);
  }

  /**
   * Heads from host weights in PyTorch layout.
   *
   * @param weights {@code [block][head]}: {@code W} as {@code [out=D, in=D]} row-major
   * @param biases {@code [block][head]}: {@code b [D]}
   * @param ownLmHeads {@code [head]}: {@code [V, D]} row-major, or null to share the target's
   */
  public static MedusaHeads create(
      LlamaModel model, float[][][] weights, float[][][] biases, float[][] ownLmHeads) {
    int dim = model.config().dim();
    int vocab = model.config().vocabularySize();
    Linear[][] w = new Linear[weights.length][];
    float[][][] b = new float[weights.length][][];
    for (int j = 0; j < weights.length; j++) {
      w[j] = new Linear[weights[j].length];
      b[j] = new float[weights[j].length][];
      for (int k = 0; k < weights[j].length; k++) {
        w[j][k] = model.backend().linear(weights[j][k], dim, dim);
        b[j][k] = biases[j][k].clone();
      }
    }
    Linear[] own = null;
    if (ownLmHeads != null) {
      own = new Linear[ownLmHeads.length];
      for (int k = 0; k < own.length; k++) {
        own[k] = model.backend().linear(ownLmHeads[k], vocab, dim);
      }
    }
    return new MedusaHeads(dim, vocab, w, b, own, model.lmHead());
  }

  /** Number of heads (the deepest draft depth). */
  public int count() {
    return count;
  }

  /**
   * Every head's logits for rows of hidden states.
   *
   * @param hidden {@code [rows, D]} post-norm last hidden states from {@code offset}
   * @param logits {@code [K, rows, V]}, overwritten
   */
  public void logits(float[] hidden, int offset, int rows, float[] logits) {
    if (state.length < rows * dim) {
      state = new float[rows * dim];
      block = new float[rows * dim];
    }
    for (int k = 0; k < count; k++) {
      System.arraycopy(hidden, offset, state, 0, rows * dim);
      for (int j = 0; j < weights.length; j++) {
        weights[j][k].apply(state, 0, rows, block, 0);
        for (int r = 0; r < rows; r++) {
          VectorMath.add(block, r * dim, biases[j][k], 0, dim);
          VectorMath.silu(block, r * dim, dim);
        }
        VectorMath.add(state, 0, block, 0, rows * dim);
      }
      Linear lmHead = ownLmHeads != null ? ownLmHeads[k] : sharedLmHead;
      lmHead.apply(state, 0, rows, logits, k * rows * vocab);
    }
  }

  @Override
  public void close() {
    for (Linear[] block : weights) {
      for (Linear w : block) {
        w.close();
      }
    }
    if (ownLmHeads != null) {
      for (Linear lm : ownLmHeads) {
        lm.close();
      }
    }
  }
}
