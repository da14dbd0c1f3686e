package io.specd.kernels.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.specd.kernels.torch.TorchForward;

/**
 * Clover-2's attention decoder block: fuses a state x with a token embedding y through an
 * "attention" over that single key, per head g: {@code out = x + concat_g cos(q_g, k_g) · v_g},
 * with {@code q = RMSNorm(x)·Wq + bq} (gain folded into Wq), {@code k = y·Wk + bk}, {@code v = y·Wv
 * + bv}. No softmax (one key), no output projection.
 *
 * <p>This is the trainable (DJL) form; the drafter's {@code CosineAttention} runs the same function
 * at inference.
 *
 * @param query {@code [D, D]}: {@code diag(gain)·Wqᵀ}
 * @param queryBias {@code [D]}
 * @param keyValue {@code [D, 2D]}: {@code [Wk | Wv]ᵀ}
 * @param keyValueBias {@code [2D]}
 */
public record ResidualAttention(
    NDArray query, NDArray queryBias, NDArray keyValue, NDArray keyValueBias) {

  /** The trainable arrays. */
  public NDArray[] parameters() {
    return new NDArray[] {query, queryBias, keyValue, keyValueBias};
  }

  /**
   * Keys (normalised per head) and values of token embeddings.
   *
   * @param embeddings {@code [N, D]}
   * @param heads attention heads (the target's)
   * @return {@code [N, 2D]}: {@code [k̂ | v]}
   */
  public NDArray keysValues(NDArray embeddings, int heads) {
    int dim = (int) embeddings.getShape().get(1);
    NDList kv = embeddings.matMul(keyValue).add(keyValueBias).split(2, 1);
    NDArray keys = kv.get(0).reshape(-1, heads, dim / heads).normalize(2, -1).reshape(-1, dim);
    return keys.concat(kv.get(1), 1);
  }

  /**
   * Applies the block.
   *
   * @param x {@code [N, D]} states
   * @param keysValues {@code [N, 2D]} from {@link #keysValues}, one row per state
   * @param eps RMSNorm epsilon (device scalar)
   * @return {@code [N, D]}
   */
  public NDArray apply(NDArray x, NDArray keysValues, NDArray eps, int heads) {
    int dim = (int) x.getShape().get(1);
    int headSize = dim / heads;
    NDList kv = keysValues.split(2, 1);
    NDArray q =
        TorchForward.rmsUnit(x, eps)
            .matMul(query)
            .add(queryBias)
            .reshape(-1, heads, headSize)
            .normalize(2, -1); // [N, H, hd]
    NDArray cosine = q.mul(kv.get(0).reshape(-1, heads, headSize)).sum(new int[] {-1}, true);
    return x.add(cosine.mul(kv.get(1).reshape(-1, heads, headSize)).reshape(-1, dim));
  }
}
