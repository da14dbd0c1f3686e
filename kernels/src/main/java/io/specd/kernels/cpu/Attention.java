package io.specd.kernels.cpu;

import io.specd.kernels.llama.AncestorMask;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Scaled dot-product attention of one new token over a {@link PagedKvCache}, one query head of a
 * layer at a time: scores as vectors over positions (broadcast a query dimension, FMA along that
 * dimension's keys), a vectorised softmax, and each output dimension as a dot product of the
 * weights with that dimension's values. Grouped-query heads share their key/value head. Holds its
 * score scratch, so one instance serves one thread.
 */
final class Attention {
  private static final VectorSpecies<Float> SPECIES = VectorMath.SPECIES;
  private static final int LANES = SPECIES.length();
  private static final int PAGE = PagedKvCache.PAGE;

  private final int headSize;
  private final int groups;
  private float[] scores = new float[PAGE];

  Attention(int heads, int kvHeads, int headSize) {
    this.headSize = headSize;
    this.groups = heads / kvHeads;
  }

  /**
   * Attends one query head of one token.
   *
   * @param q {@code [heads · headSize]} queries from {@code qOffset}, rotated and scaled by {@code
   *     1/√headSize}
   * @param committed rows {@code [0, committed)} every new token sees
   * @param limit one past the last row this token may see
   * @param mask which window rows ({@code committed + w}) the token sees, for rows below limit
   * @param token the token's index among the step's new tokens (its mask row)
   * @param out {@code [heads · headSize]} from {@code outOffset}: head {@code h}'s part overwritten
   * @param h the query head
   */
  void attendHead(
      PagedKvCache cache,
      int layer,
      float[] q,
      int qOffset,
      int committed,
      int limit,
      AncestorMask mask,
      int token,
      float[] out,
      int outOffset,
      int h) {
    int padded = (limit + PAGE - 1) / PAGE * PAGE;
    if (scores.length < padded) {
      scores = new float[Math.max(padded, 2 * scores.length)];
    }
    int kvHead = h / groups;
    scores(cache, layer, kvHead, q, qOffset + h * headSize, padded);
    for (int w = committed; w < limit; w++) {
      if (!mask.visible(token, w - committed)) {
        scores[w] = Float.NEGATIVE_INFINITY;
      }
    }
    float sum = softmax(limit, padded);
    weightedValues(cache, layer, kvHead, padded, 1f / sum, out, outOffset + h * headSize);
  }

  /** {@code scores[t] = q · K[t]} for {@code t < padded} (whole pages). */
  private void scores(PagedKvCache cache, int layer, int kvHead, float[] q, int query, int padded) {
    int base = cache.base(layer, 0, kvHead);
    for (int start = 0; start < padded; start += PAGE) {
      float[] page = cache.page(start);
      for (int c = 0; c < PAGE; c += 4 * LANES) {
        FloatVector s0 = FloatVector.zero(SPECIES);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        for (int e = 0; e < headSize; e++) {
          FloatVector qe = FloatVector.broadcast(SPECIES, q[query + e]);
          int k = base + e * PAGE + c;
          s0 = FloatVector.fromArray(SPECIES, page, k).fma(qe, s0);
          s1 = FloatVector.fromArray(SPECIES, page, k + LANES).fma(qe, s1);
          s2 = FloatVector.fromArray(SPECIES, page, k + 2 * LANES).fma(qe, s2);
          s3 = FloatVector.fromArray(SPECIES, page, k + 3 * LANES).fma(qe, s3);
        }
        int at = start + c;
        s0.intoArray(scores, at);
        s1.intoArray(scores, at + LANES);
        s2.intoArray(scores, at + 2 * LANES);
        s3.intoArray(scores, at + 3 * LANES);
      }
    }
  }

  /**
   * Exponentiates {@code scores[0, n)} against their maximum and zeroes {@code [n, padded)} (so
   * that whole pages can be summed); returns the sum.
   */
  private float softmax(int n, int padded) { // running vectors as arguments: see VectorMath
    int bound = SPECIES.loopBound(n);
    FloatVector maxima = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
    int t = 0;
    for (; t < bound; t += LANES) {
      maxima = FloatVector.fromArray(SPECIES, scores, t).max(maxima);
    }
    float max = maxima.reduceLanes(VectorOperators.MAX);
    for (; t < n; t++) {
      max = Math.max(max, scores[t]);
    }
    FloatVector shift = FloatVector.broadcast(SPECIES, max);
    FloatVector sums = FloatVector.zero(SPECIES);
    for (t = 0; t < bound; t += LANES) {
      FloatVector e =
          FloatVector.fromArray(SPECIES, scores, t).sub(shift).lanewise(VectorOperators.EXP);
      e.intoArray(scores, t);
      sums = e.add(sums);
    }
    float sum = sums.reduceLanes(VectorOperators.ADD);
    for (; t < n; t++) {
      scores[t] = (float) Math.exp(scores[t] - max);
      sum += scores[t];
    }
    Arrays.fill(scores, n, padded, 0f);
    return sum;
  }

  /**
   * {@code out[e] = scale · Σ_{t<padded} scores[t] · V[t][e]} over whole pages (weights beyond the
   * visible rows are zero): one vector sum per dimension, reduced once.
   */
  private void weightedValues(
      PagedKvCache cache, int layer, int kvHead, int padded, float scale, float[] out, int at) {
    int base = cache.base(layer, 1, kvHead);
    for (int e = 0; e < headSize; e++) {
      FloatVector s0 = FloatVector.zero(SPECIES);
      FloatVector s1 = s0;
      int v = base + e * PAGE;
      for (int start = 0; start < padded; start += PAGE) {
        float[] page = cache.page(start);
        for (int c = 0; c < PAGE; c += 2 * LANES) {
          s0 =
              FloatVector.fromArray(SPECIES, scores, start + c)
                  .fma(FloatVector.fromArray(SPECIES, page, v + c), s0);
          s1 =
              FloatVector.fromArray(SPECIES, scores, start + c + LANES)
                  .fma(FloatVector.fromArray(SPECIES, page, v + c + LANES), s1);
        }
      }
      out[at + e] = s0.add(s1).reduceLanes(VectorOperators.ADD) * scale;
    }
  }
}
