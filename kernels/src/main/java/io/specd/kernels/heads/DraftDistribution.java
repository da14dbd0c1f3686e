package io.specd.kernels.heads;

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
   * {@code H = log S − Σ p·(l − max)} with {@code S = Σ e^(l − max)}, so no per-token array is
   * needed) and its top tokens (ties keep the lower id first).
   *
   * @param candidates how many top tokens to keep
   */
  public static DraftDistribution of(float[] logits, int offset, int vocab, int candidates) {
    float max = Float.NEGATIVE_INFINITY;
    for (int v = 0; v < vocab; v++) {
      max = Math.max(max, logits[offset + v]);
    }
    double sum = 0;
    double weighted = 0;
    for (int v = 0; v < vocab; v++) {
      double shifted = logits[offset + v] - max;
      double e = Math.exp(shifted);
      sum += e;
      weighted += e * shifted;
    }
    double entropy = Math.log(sum) - weighted / sum;
    int k = Math.min(candidates, vocab);
    int[] top = new int[k];
    float[] probabilities = new float[k];
    Arrays.fill(top, -1);
    for (int v = 0; v < vocab; v++) {
      float p = (float) (Math.exp(logits[offset + v] - max) / sum);
      // insert v into the sorted top list if it belongs there (ties keep the lower id first)
      int at = k;
      while (at > 0 && (top[at - 1] < 0 || probabilities[at - 1] < p)) {
        at--;
      }
      if (at < k) {
        System.arraycopy(top, at, top, at + 1, k - at - 1);
        System.arraycopy(probabilities, at, probabilities, at + 1, k - at - 1);
        top[at] = v;
        probabilities[at] = p;
      }
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
