package io.specd.kernels.sample;

import java.util.Arrays;

/**
 * The target's log-probabilities at one committed position, as OpenAI reports them: the log-softmax
 * of the raw logits (temperature 1, no top-k or top-p), whatever sampling chose the token.
 *
 * @param token the committed token
 * @param logprob its log-probability
 * @param topTokens the most likely tokens, most likely first (ties: lower id first)
 * @param topLogprobs their log-probabilities, in the same order
 */
public record TokenLogprobs(int token, float logprob, int[] topTokens, float[] topLogprobs) {
  /** The most top tokens a request may ask for (OpenAI's chat limit; vLLM's default maximum). */
  public static final int MAX_TOP = 20;

  public TokenLogprobs {
    topTokens = topTokens.clone();
    topLogprobs = topLogprobs.clone();
    if (topTokens.length != topLogprobs.length) {
      throw new IllegalArgumentException(
          topTokens.length + " top tokens with " + topLogprobs.length + " log-probabilities");
    }
  }

  @Override
  public int[] topTokens() {
    return topTokens.clone();
  }

  @Override
  public float[] topLogprobs() {
    return topLogprobs.clone();
  }

  /**
   * Reads one row of logits.
   *
   * @param logits raw logits, the row at {@code [offset, offset + vocab)}
   * @param token the token committed at this position
   * @param top how many of the most likely tokens to list (0 to {@link #MAX_TOP})
   */
  public static TokenLogprobs of(float[] logits, int offset, int vocab, int token, int top) {
    if (top < 0 || top > MAX_TOP) {
      throw new IllegalArgumentException("top must be in [0, " + MAX_TOP + "], got " + top);
    }
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      max = Math.max(max, logits[offset + i]);
    }
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      sum += Math.exp(logits[offset + i] - max);
    }
    double logNormaliser = max + Math.log(sum);
    int[] best = mostLikely(logits, offset, vocab, Math.min(top, vocab));
    float[] bestLogprobs = new float[best.length];
    for (int r = 0; r < best.length; r++) {
      bestLogprobs[r] = (float) (logits[offset + best[r]] - logNormaliser);
    }
    return new TokenLogprobs(
        token, (float) (logits[offset + token] - logNormaliser), best, bestLogprobs);
  }

  /** The {@code k} largest logits' indices, largest first: one pass keeping a sorted shortlist. */
  private static int[] mostLikely(float[] logits, int offset, int vocab, int k) {
    int[] best = new int[k];
    int size = 0;
    for (int i = 0; i < vocab && k > 0; i++) {
      float value = logits[offset + i];
      if (size == k && value <= logits[offset + best[k - 1]]) {
        continue;
      }
      int at = size < k ? size++ : k - 1;
      while (at > 0 && logits[offset + best[at - 1]] < value) {
        best[at] = best[at - 1];
        at--;
      }
      best[at] = i;
    }
    return Arrays.copyOf(best, size);
  }
}
