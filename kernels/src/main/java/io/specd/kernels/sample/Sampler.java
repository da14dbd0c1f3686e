package io.specd.kernels.sample;

import io.specd.policies.spec.SamplingParams;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Chooses tokens from logits on the host: greedy (argmax, first index on ties, as llama.cpp), or
 * sampling from the warped distribution (temperature, then top-k, then top-p, renormalised).
 *
 * <p>{@link #distribution} exposes the warped distribution itself, so that speculative acceptance
 * applies exactly the same warping to target and draft. Stateless: its arrays are the caller's
 * ({@link SamplingWorkspace}), its randomness the caller's seeded generator, one uniform draw per
 * sampled token.
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
   * Picks the next token (a convenience that allocates its sampling arrays).
   *
   * @param logits {@code [vocab]} raw logits
   * @param params greedy or sampling parameters
   * @param random the request's generator (not touched when greedy)
   */
  public static int sample(float[] logits, SamplingParams params, RandomGenerator random) {
    return sample(logits, 0, logits.length, params, random, new SamplingWorkspace(logits.length));
  }

  /**
   * Picks the next token from {@code logits[offset, offset + vocab)}: greedy reads the row in
   * place, sampling warps it into the workspace's distribution.
   */
  public static int sample(
      float[] logits,
      int offset,
      int vocab,
      SamplingParams params,
      RandomGenerator random,
      SamplingWorkspace workspace) {
    if (params.isGreedy()) {
      return argmax(logits, offset, vocab);
    }
    return draw(distribution(logits, offset, vocab, params, workspace), random);
  }

  /**
   * The distribution of a whole row, in a new array (a convenience that allocates its sampling
   * arrays): see {@link #distribution(float[], int, int, SamplingParams, SamplingWorkspace)}.
   */
  public static float[] distribution(float[] logits, SamplingParams params) {
    return distribution(logits, 0, logits.length, params, new SamplingWorkspace(logits.length));
  }

  /**
   * The distribution tokens are drawn from: softmax of {@code logits / temperature} restricted to
   * the top-k tokens and then to the smallest most-likely set reaching top-p, renormalised. For
   * greedy parameters it is the point mass on the argmax. The filters order only the leading tokens
   * of the row ({@link LogitOrder}), not all of them. Allocates nothing once the workspace has its
   * arrays.
   *
   * @param logits the row, {@code logits[offset … offset + vocab)}
   * @param workspace where it is written, for {@code vocab} tokens
   * @return the workspace's probabilities {@code [vocab]}, summing to 1, valid until its next
   *     distribution
   */
  public static float[] distribution(
      float[] logits, int offset, int vocab, SamplingParams params, SamplingWorkspace workspace) {
    if (workspace.vocabularySize() != vocab) {
      throw new IllegalArgumentException(
          "a workspace for " + workspace.vocabularySize() + " tokens, not " + vocab);
    }
    workspace.ensure();
    float[] probabilities = workspace.probabilities;
    if (params.isGreedy()) {
      Arrays.fill(probabilities, 0f);
      probabilities[argmax(logits, offset, vocab)] = 1f;
      return probabilities;
    }
    double inverseTemperature = 1.0 / params.temperature();
    float max = Float.NEGATIVE_INFINITY;
    for (int token = 0; token < vocab; token++) {
      max = Math.max(max, logits[offset + token]);
    }
    double[] weights = workspace.weights;
    double total = 0;
    for (int token = 0; token < vocab; token++) {
      weights[token] = Math.exp((logits[offset + token] - max) * inverseTemperature);
      total += weights[token];
    }
    boolean topK = params.topK() > 0 && params.topK() < vocab;
    if (!topK && params.topP() >= 1.0) {
      for (int token = 0; token < vocab; token++) {
        probabilities[token] = (float) (weights[token] / total);
      }
      return probabilities;
    }
    // the most likely tokens in order, as many as top-k keeps or as reach top-p's mass
    int ordered =
        topK
            ? LogitOrder.leading(logits, offset, workspace, params.topK(), 0)
            : LogitOrder.leading(logits, offset, workspace, 1, params.topP() * total);
    int[] order = workspace.order;
    int keep = topK ? params.topK() : vocab;
    double sum = total;
    if (topK) {
      sum = 0;
      for (int r = 0; r < keep; r++) {
        sum += weights[order[r]];
      }
    }
    int kept = Math.min(keep, ordered);
    if (params.topP() < 1.0) {
      // keep the smallest prefix (by probability) whose mass reaches top_p
      double cumulative = 0;
      kept = 0;
      while (kept < keep) {
        if (kept == ordered) { // rounding left the margin short: order every token
          ordered = LogitOrder.leading(logits, offset, workspace, vocab, 0);
        }
        cumulative += weights[order[kept]] / sum;
        kept++;
        if (cumulative >= params.topP()) {
          break;
        }
      }
      sum = 0;
      for (int r = 0; r < kept; r++) {
        sum += weights[order[r]];
      }
    }
    Arrays.fill(probabilities, 0f);
    for (int r = 0; r < kept; r++) {
      probabilities[order[r]] = (float) (weights[order[r]] / sum);
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
}
