package io.specd.kernels.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.format.SafetensorsWriter;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.torch.LayerWeights;
import io.specd.kernels.torch.TorchForward;
import io.specd.kernels.torch.TorchModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Clover-2's trainable modules, on a DJL device (arXiv 2408.00264; layout of XiaoBin1992/clover),
 * for head training; inference reads the exported checkpoint ({@code CloverCheckpoint}):
 *
 * <ul>
 *   <li>{@code fuse} (attention decoder A, {@code clover_head_mlp_rnn}): the target's pre-norm
 *       state at t with the embedding of token t+1;
 *   <li>{@code augmenting} ({@code layers.*}): full decoder layers with their own KV cache,
 *       initialised from the target's last layer;
 *   <li>{@code cloverNorm}: the gain of the RMSNorm that yields the recurrent state s0;
 *   <li>{@code firstProjection}/{@code firstBias} ({@code clover_head_mlp}): head 0's projector;
 *   <li>{@code recurrent} (attention decoder B, {@code clover_head_mlp_rnn2}): s_i from s_{i-1} and
 *       the embedding of the token drafted at depth i (the regressive connection);
 *   <li>{@code projection}/{@code projectionBias} ({@code clover_head_mlp2}): from {@code [s_i;
 *       e]};
 *   <li>{@code headNorm}: the gain of the RMSNorm before the shared LM head.
 * </ul>
 *
 * Token embeddings are the target's LM head rows ({@code clover_embed_tokens} = {@code W_lm}),
 * frozen. Matrices are stored transposed ({@code [in, out]}).
 *
 * @param fuse block A
 * @param augmenting the augmenting decoder layers
 * @param cloverNorm {@code [D]}
 * @param firstProjection {@code [D, D]}
 * @param firstBias {@code [D]}
 * @param recurrent block B
 * @param projection {@code [2D, D]}: rows {@code [0, D)} act on s, {@code [D, 2D)} on e
 * @param projectionBias {@code [D]}
 * @param headNorm {@code [D]}
 */
public record CloverWeights(
    ResidualAttention fuse,
    List<LayerWeights> augmenting,
    NDArray cloverNorm,
    NDArray firstProjection,
    NDArray firstBias,
    ResidualAttention recurrent,
    NDArray projection,
    NDArray projectionBias,
    NDArray headNorm) {

  /** All trainable arrays, in a fixed order. */
  public List<NDArray> parameters() {
    List<NDArray> all = new ArrayList<>(Arrays.asList(fuse.parameters()));
    augmenting.forEach(l -> all.addAll(Arrays.asList(l.parameters())));
    all.addAll(List.of(cloverNorm, firstProjection, firstBias));
    all.addAll(Arrays.asList(recurrent.parameters()));
    all.addAll(List.of(projection, projectionBias, headNorm));
    return all;
  }

  /**
   * The paper's initialisation: attention blocks near identity (q, k = I + U(0, 0.01), v = U(0,
   * 0.01)), projectors near identity, augmenting layers and norms copied from the target's last
   * layer and final norm.
   */
  public static CloverWeights initial(
      LlamaModel target, int augmentingLayers, long seed, NDManager manager) {
    LlamaConfig c = target.config();
    int d = c.dim();
    SplittableRandom random = new SplittableRandom(seed);
    List<LayerWeights> layers = new ArrayList<>();
    TorchModel torch = TorchModel.of(target);
    LayerWeights last = torch.weights().layers().get(c.layerCount() - 1);
    for (int i = 0; i < augmentingLayers; i++) {
      layers.add(LayerWeights.fuse(last.unfuse(c), c, manager));
    }
    float[] finalNorm = target.outputNorm();
    float[] mlp2 = uniform(random, 2 * d * d, 0.01f);
    for (int i = 0; i < d; i++) {
      mlp2[i * d + i] += 1f; // identity on the state half of [s; e]
    }
    return new CloverWeights(
        initialAttention(random, d, manager),
        layers,
        manager.create(finalNorm, new Shape(d)),
        manager.create(identityPlusNoise(random, d), new Shape(d, d)),
        manager.zeros(new Shape(d)),
        initialAttention(random, d, manager),
        manager.create(mlp2, new Shape(2L * d, d)),
        manager.zeros(new Shape(d)),
        manager.create(finalNorm, new Shape(d)));
  }

  private static ResidualAttention initialAttention(SplittableRandom random, int d, NDManager m) {
    float[] keyValue = new float[d * 2 * d];
    float[] key = identityPlusNoise(random, d);
    float[] value = uniform(random, d * d, 0.01f);
    for (int i = 0; i < d; i++) {
      System.arraycopy(key, i * d, keyValue, i * 2 * d, d);
      System.arraycopy(value, i * d, keyValue, i * 2 * d + d, d);
    }
    return new ResidualAttention(
        m.create(identityPlusNoise(random, d), new Shape(d, d)),
        m.zeros(new Shape(d)),
        m.create(keyValue, new Shape(d, 2L * d)),
        m.zeros(new Shape(2L * d)));
  }

  private static float[] identityPlusNoise(SplittableRandom random, int d) {
    float[] w = uniform(random, d * d, 0.01f);
    for (int i = 0; i < d; i++) {
      w[i * d + i] += 1f;
    }
    return w;
  }

  private static float[] uniform(SplittableRandom random, int n, float high) {
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) random.nextDouble(0, high);
    }
    return w;
  }

  /** Head 0: from the recurrent state s0 {@code [N, D]} to the head output {@code [N, D]}. */
  public NDArray firstHead(NDArray s0, NDArray eps) {
    return TorchForward.rmsUnit(s0.matMul(firstProjection).add(firstBias), eps);
  }

  /**
   * A recurrent head step: s_i from s_{i-1} and the token drafted at depth i.
   *
   * @param state {@code [N, D]} s_{i-1}
   * @param keysValues {@code [N, 2D]} block B's keys/values of the tokens
   * @param projectedTokens {@code [N, D]}: {@code e·Wp_e + bp} of the tokens
   * @return {@code [s_i, o_i]}: the new state and the head output (before the head norm gain)
   */
  public NDArray[] recurrentHead(
      NDArray state, NDArray keysValues, NDArray projectedTokens, NDArray eps, int heads) {
    int d = (int) state.getShape().get(1);
    NDArray next = recurrent.apply(state, keysValues, eps, heads);
    NDArray stateHalf = projection.get(new ai.djl.ndarray.index.NDIndex().addSliceDim(0, d));
    NDArray out = TorchForward.rmsUnit(next.matMul(stateHalf).add(projectedTokens), eps);
    return new NDArray[] {next, out};
  }

  /** {@code e·Wp_e + bp}: the token half of the recurrent projector. */
  public NDArray projectTokens(NDArray embeddings) {
    int d = (int) embeddings.getShape().get(1);
    NDArray tokenHalf = projection.get(new ai.djl.ndarray.index.NDIndex().addSliceDim(d, 2L * d));
    return embeddings.matMul(tokenHalf).add(projectionBias);
  }

  /** Writes the checkpoint tensors (public Clover-2 names). */
  public void export(SafetensorsWriter out, LlamaConfig c) {
    int d = c.dim();
    exportAttention(out, "clover_head_mlp_rnn.", fuse, d);
    for (int i = 0; i < augmenting.size(); i++) {
      augmenting.get(i).unfuse(c).write(out, "layers." + i + ".", c);
    }
    out.put("clover_norm.weight", cloverNorm.toFloatArray(), d);
    out.put(
        "clover_head_mlp.weight",
        LayerWeights.transpose(firstProjection.toFloatArray(), d, d),
        d,
        d);
    out.put("clover_head_mlp.bias", firstBias.toFloatArray(), d);
    exportAttention(out, "clover_head_mlp_rnn2.", recurrent, d);
    out.put(
        "clover_head_mlp2.weight",
        LayerWeights.transpose(projection.toFloatArray(), 2 * d, d),
        d,
        2L * d);
    out.put("clover_head_mlp2.bias", projectionBias.toFloatArray(), d);
    out.put("clover_head_norm.weight", headNorm.toFloatArray(), d);
  }

  private static void exportAttention(
      SafetensorsWriter out, String prefix, ResidualAttention a, int d) {
    float[] ones = new float[d];
    Arrays.fill(ones, 1f); // the gain is folded into q
    out.put(prefix + "input_layernorm.weight", ones, d);
    out.put(prefix + "q.weight", LayerWeights.transpose(a.query().toFloatArray(), d, d), d, d);
    out.put(prefix + "q.bias", a.queryBias().toFloatArray(), d);
    float[] kv = a.keyValue().toFloatArray(); // [D, 2D]
    float[] bias = a.keyValueBias().toFloatArray();
    out.put(prefix + "k.weight", columns(kv, d, 2 * d, 0, d), d, d);
    out.put(prefix + "k.bias", Arrays.copyOfRange(bias, 0, d), d);
    out.put(prefix + "v.weight", columns(kv, d, 2 * d, d, d), d, d);
    out.put(prefix + "v.bias", Arrays.copyOfRange(bias, d, 2 * d), d);
  }

  /**
   * Columns {@code [from, from + count)} of row-major {@code [rows, width]}, as {@code [count,
   * rows]}.
   */
  private static float[] columns(float[] matrix, int rows, int width, int from, int count) {
    float[] out = new float[count * rows];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < count; j++) {
        out[j * rows + r] = matrix[r * width + from + j];
      }
    }
    return out;
  }
}
