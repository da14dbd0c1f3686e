package io.specd.kernels.heads;

import io.specd.kernels.cpu.VectorMath;
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
   * Summarises consecutive rows of draft logits.
   *
   * @param logits {@code [rows, V]} draft logits, row-major from {@code offset}
   * @param candidates how many top tokens to keep per row
   * @return one summary per row
   */
  public static DraftDistribution[] ofRows(
      float[] logits, int offset, int rows, int vocab, int candidates) {
    DraftDistribution[] out = new DraftDistribution[rows];
    for (int r = 0; r < rows; r++) {
      out[r] = of(logits, offset + r * vocab, vocab, candidates);
    }
    return out;
  }

  /**
   * Summarises {@code logits[offset, offset + vocab)}: softmax at temperature 1, its entropy (from
   * {@code H = log S − Σ p·(l − max)} with {@code S = Σ e^(l − max)}, vectorised, so no per-token
   * array is needed) and its top tokens, chosen by logit (ties keep the lower id first).
   *
   * @param candidates how many top tokens to keep
   */
  public static DraftDistribution of(float[] logits, int offset, int vocab, int candidates) {
    float max = VectorMath.max(logits, offset, vocab);
    double[] moments = new double[2];
    VectorMath.expMoments(logits, offset, vocab, max, moments);
    double sum = moments[0];
    double entropy = Math.log(sum) - moments[1] / sum;
    int k = Math.min(candidates, vocab);
    int[] top = new int[k];
    float[] best = new float[k]; // the top logits, descending
    Arrays.fill(best, Float.NEGATIVE_INFINITY);
    Arrays.fill(top, -1);
    for (int v = 0; v < vocab; v++) {
      float logit = logits[offset + v];
      if (top[k - 1] >= 0 && logit <= best[k - 1]) {
        continue;
      }
      int at = k - 1;
      while (at > 0 && (top[at - 1] < 0 || best[at - 1] < logit)) {
        at--;
      }
      System.arraycopy(top, at, top, at + 1, k - at - 1);
      System.arraycopy(best, at, best, at + 1, k - at - 1);
      top[at] = v;
      best[at] = logit;
    }
    float[] probabilities = new float[k];
    for (int i = 0; i < k; i++) {
      probabilities[i] = (float) (Math.exp(best[i] - max) / sum);
    }
    return new DraftDistribution(top, probabilities, (float) Math.max(0.0, entropy));
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
