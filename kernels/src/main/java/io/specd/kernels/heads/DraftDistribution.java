package io.specd.kernels.heads;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.Arrays;

/**
 * A draft distribution summarised on the host: its top candidates, their probabilities, its top-1
 * probability and its entropy. Built from one row of draft logits (softmax at temperature 1).
 */
public record DraftDistribution(int[] tokens, float[] probabilities, float entropy) {

  public DraftDistribution {
    tokens = tokens.clone();
    probabilities = probabilities.clone();
  }

  /**
   * Summarises every row of draft logits on the device (a few ops for the whole batch, and only the
   * top candidates cross to the host).
   *
   * @param logits {@code [n, V]} draft logits (the step's manager)
   * @param candidates how many top tokens to keep per row
   * @return one summary per row
   */
  public static DraftDistribution[] ofRows(NDArray logits, int candidates) {
    int rows = (int) logits.getShape().get(0);
    int k = (int) Math.min(candidates, logits.getShape().get(1));
    NDArray logProbabilities = logits.logSoftmax(-1); // [n, V]
    float[] entropy =
        logProbabilities.exp().mul(logProbabilities).sum(new int[] {-1}).neg().toFloatArray();
    NDList top = logProbabilities.topK(k, -1, true, true); // values and indices, [n, k] each
    float[] probabilities = top.get(0).exp().toFloatArray();
    long[] tokens = top.get(1).toLongArray();
    DraftDistribution[] out = new DraftDistribution[rows];
    for (int r = 0; r < rows; r++) {
      int[] ids = new int[k];
      for (int i = 0; i < k; i++) {
        ids[i] = (int) tokens[r * k + i];
      }
      out[r] =
          new DraftDistribution(
              ids, Arrays.copyOfRange(probabilities, r * k, (r + 1) * k), entropy[r]);
    }
    return out;
  }

  /**
   * Summarises {@code logits[offset, offset + vocab)} on the host.
   *
   * @param candidates how many top tokens to keep
   */
  public static DraftDistribution of(float[] logits, int offset, int vocab, int candidates) {
    float max = Float.NEGATIVE_INFINITY;
    for (int v = 0; v < vocab; v++) {
      max = Math.max(max, logits[offset + v]);
    }
    double sum = 0;
    double[] exp = new double[vocab];
    for (int v = 0; v < vocab; v++) {
      exp[v] = Math.exp(logits[offset + v] - max);
      sum += exp[v];
    }
    double entropy = 0;
    for (int v = 0; v < vocab; v++) {
      double p = exp[v] / sum;
      if (p > 0) {
        entropy -= p * Math.log(p);
      }
    }
    int k = Math.min(candidates, vocab);
    int[] top = new int[k];
    float[] probabilities = new float[k];
    Arrays.fill(top, -1);
    for (int v = 0; v < vocab; v++) {
      double p = exp[v] / sum;
      // insert v into the sorted top list if it belongs there (ties keep the lower id first)
      int at = k;
      while (at > 0 && (top[at - 1] < 0 || probabilities[at - 1] < p)) {
        at--;
      }
      if (at < k) {
        System.arraycopy(top, at, top, at + 1, k - at - 1);
        System.arraycopy(probabilities, at, probabilities, at + 1, k - at - 1);
        top[at] = v;
        probabilities[at] = (float) p;
      }
    }
    return new DraftDistribution(top, probabilities, (float) entropy);
  }

  @Override
  public int[] tokens() {
    return tokens.clone();
  }

  @Override
  public float[] probabilities() {
    return probabilities.clone();
  }

  public int token(int rank) {
    return tokens[rank];
  }

  public float probability(int rank) {
    return probabilities[rank];
  }

  /** The probability of a token among the candidates (0 if it is not one of them). */
  public float probabilityOf(int token) {
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i] == token) {
        return probabilities[i];
      }
    }
    return 0f;
  }

  /** The most likely token's probability. */
  public float top() {
    return probabilities[0];
  }

  public int size() {
    return tokens.length;
  }
}
