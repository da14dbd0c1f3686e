package io.specd.kernels.sample;

import io.specd.policies.spec.SamplingParams;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Chooses tokens from logits on the host: greedy (argmax, first index on ties, as llama.cpp), or
 * sampling from the warped distribution (temperature, then top-k, then top-p, renormalised).
 *
 * <p>{@link #distribution} exposes the warped distribution itself, so that speculative acceptance
 * applies exactly the same warping to target and draft. Stateless; randomness comes from the
 * caller's seeded generator, one uniform draw per sampled token.
 */
public final class Sampler {
  private Sampler() {}

  /** Index of the largest logit (the first one on ties). */
  public static int argmax(float[] logits, int offset, int length) {
    int best = 0;
    float bestValue = logits[offset];
    for (int i = 1; i < length; i++) {
      if (logits[offset + i] > bestValue) {
        bestValue = logits[offset + i];
        best = i;
      }
    }
    return best;
  }

  /** Index of the largest logit of a whole vector. */
  public static int argmax(float[] logits) {
    return argmax(logits, 0, logits.length);
  }

  /**
   * Picks the next token.
   *
   * @param logits {@code [vocab]} raw logits
   * @param params greedy or sampling parameters
   * @param random the request's generator (not touched when greedy)
   */
  public static int sample(float[] logits, SamplingParams params, RandomGenerator random) {
    return sample(logits, 0, logits.length, params, random);
  }

  /**
   * Picks the next token from {@code logits[offset, offset + vocab)} (greedy reads the row in
   * place; sampling copies it).
   */
  public static int sample(
      float[] logits, int offset, int vocab, SamplingParams params, RandomGenerator random) {
    if (params.isGreedy()) {
      return argmax(logits, offset, vocab);
    }
    return draw(distribution(Arrays.copyOfRange(logits, offset, offset + vocab), params), random);
  }

  /**
   * The distribution tokens are drawn from: softmax of {@code logits / temperature} restricted to
   * the top-k tokens and then to the smallest most-likely set reaching top-p, renormalised. For
   * greedy parameters it is the point mass on the argmax.
   *
   * @return probabilities {@code [vocab]}, summing to 1
   */
  public static float[] distribution(float[] logits, SamplingParams params) {
    int vocab = logits.length;
    float[] probabilities = new float[vocab];
    if (params.isGreedy()) {
      probabilities[argmax(logits)] = 1f;
      return probabilities;
    }
    double inverseTemperature = 1.0 / params.temperature();
    boolean filtered = (params.topK() > 0 && params.topK() < vocab) || params.topP() < 1.0;
    Integer[] order = filtered ? sortedByLogit(logits) : null;
    int keep = vocab;
    if (params.topK() > 0 && params.topK() < vocab) {
      keep = params.topK();
    }
    float max = Float.NEGATIVE_INFINITY;
    for (float logit : logits) {
      max = Math.max(max, logit);
    }
    double[] weights = new double[vocab];
    double sum = 0;
    for (int r = 0; r < keep; r++) {
      int token = filtered ? order[r] : r;
      weights[token] = Math.exp((logits[token] - max) * inverseTemperature);
      sum += weights[token];
    }
    if (params.topP() < 1.0) {
      // keep the smallest prefix (by probability) whose mass reaches top_p
      double cumulative = 0;
      int kept = 0;
      while (kept < keep) {
        cumulative += weights[order[kept]] / sum;
        kept++;
        if (cumulative >= params.topP()) {
          break;
        }
      }
      for (int r = kept; r < keep; r++) {
        weights[order[r]] = 0;
      }
      sum = 0;
      for (int r = 0; r < kept; r++) {
        sum += weights[order[r]];
      }
    }
    for (int token = 0; token < vocab; token++) {
      probabilities[token] = (float) (weights[token] / sum);
    }
    return probabilities;
  }

  /** Draws an index from a distribution by inverse CDF with one uniform number. */
  public static int draw(float[] probabilities, RandomGenerator random) {
    double u = random.nextDouble();
    double cumulative = 0;
    int last = -1;
    for (int i = 0; i < probabilities.length; i++) {
      if (probabilities[i] > 0) {
        cumulative += probabilities[i];
        last = i;
        if (u < cumulative) {
          return i;
        }
      }
    }
    return last; // rounding left the total just under u
  }

  private static Integer[] sortedByLogit(float[] logits) {
    Integer[] order = new Integer[logits.length];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
    return order;
  }
}
