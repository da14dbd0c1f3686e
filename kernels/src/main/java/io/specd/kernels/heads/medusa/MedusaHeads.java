package io.specd.kernels.heads.medusa;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.heads.HeadCheckpoint;
import io.specd.kernels.llama.LlamaModel;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Medusa heads on the device. Head k maps the target's post-norm last hidden state f to the
 * distribution of the token k+2 positions ahead: {@code u ← u + SiLU(W u + b)} for each of its
 * residual blocks (starting from u = f), then the LM head (the target's, shared, or the head's
 * own). All heads run as one batched product per block.
 *
 * <p>Checkpoint layout (FasterDecoding's): {@code {k}.{j}.linear.weight [D, D]}, {@code
 * {k}.{j}.linear.bias [D]} for blocks {@code j < n}, and optionally {@code {k}.{n}.weight [V, D]}
 * (the head's own LM head). The head and block counts come from the keys.
 *
 * <p>Owns its NDManager; not thread-safe.
 */
public final class MedusaHeads implements AutoCloseable {
  private static final Pattern LINEAR = Pattern.compile("(\\d+)\\.(\\d+)\\.linear\\.weight");

  private final NDManager manager;
  private final int count;

  /** Per block j: {@code [K, D, D]}, each head's {@code Wᵀ} (so rows multiply on the left). */
  private final NDArray[] weights;

  /** Per block j: {@code [K, 1, D]}. */
  private final NDArray[] biases;

  /** {@code [K, D, V]} own LM heads, or null to share the target's {@code [D, V]}. */
  private final NDArray ownLmHeads;

  private final NDArray sharedLmHead;

  private MedusaHeads(
      NDManager manager,
      int count,
      NDArray[] weights,
      NDArray[] biases,
      NDArray ownLmHeads,
      NDArray sharedLmHead) {
    this.manager = manager;
    this.count = count;
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
    int count = weights[0].length;
    NDManager manager = model.manager().newSubManager();
    NDArray[] w = new NDArray[weights.length];
    NDArray[] b = new NDArray[weights.length];
    for (int j = 0; j < weights.length; j++) {
      float[] stacked = new float[count * dim * dim];
      float[] bias = new float[count * dim];
      for (int k = 0; k < count; k++) {
        transposeInto(weights[j][k], dim, dim, stacked, k * dim * dim);
        System.arraycopy(biases[j][k], 0, bias, k * dim, dim);
      }
      w[j] = manager.create(stacked, new Shape(count, dim, dim));
      b[j] = manager.create(bias, new Shape(count, 1, dim));
    }
    NDArray own = null;
    if (ownLmHeads != null) {
      float[] stacked = new float[count * dim * vocab];
      for (int k = 0; k < count; k++) {
        transposeInto(ownLmHeads[k], vocab, dim, stacked, k * dim * vocab);
      }
      own = manager.create(stacked, new Shape(count, dim, vocab));
    }
    return new MedusaHeads(manager, count, w, b, own, model.weights().lmHead());
  }

  /** Number of heads (the deepest draft depth). */
  public int count() {
    return count;
  }

  /**
   * Head logits for a batch of hidden states.
   *
   * @param hidden {@code [N, D]} post-norm last hidden states (caller's manager)
   * @return {@code [K, N, V]}, in the hidden state's manager
   */
  public NDArray logits(NDArray hidden) {
    return forward(hidden, weights, biases, ownLmHeads != null ? ownLmHeads : sharedLmHead);
  }

  /**
   * The heads' computation, shared by inference and training.
   *
   * @param hidden {@code [N, D]}
   * @param weights per block {@code [K, D, D]} (transposed)
   * @param biases per block {@code [K, 1, D]}
   * @param lmHead {@code [D, V]} shared or {@code [K, D, V]} per head
   * @return {@code [K, N, V]}
   */
  public static NDArray forward(
      NDArray hidden, NDArray[] weights, NDArray[] biases, NDArray lmHead) {
    NDArray u = hidden; // broadcast to [K, N, D] by the first block
    for (int j = 0; j < weights.length; j++) {
      NDArray z = u.matMul(weights[j]).add(biases[j]); // [K, N, D]
      u = u.add(z.mul(z.getNDArrayInternal().sigmoid()));
    }
    return u.matMul(lmHead);
  }

  private static void transposeInto(float[] matrix, int rows, int cols, float[] out, int offset) {
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[offset + c * rows + r] = matrix[r * cols + c];
      }
    }
  }

  @Override
  public void close() {
    manager.close();
  }
}
