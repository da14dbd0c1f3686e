package io.specd.kernels.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.specd.policies.spec.SamplingParams;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {
  private static final float[] LOGITS = {1.0f, 3.0f, 2.0f, 0.5f, 3.0f, -1.0f};

  @Test
  void greedyShouldPickTheFirstLargestLogit() {
    assertThat(Sampler.sample(LOGITS, SamplingParams.GREEDY, new SplittableRandom(1))).isEqualTo(1);
  }

  @Test
  void theSameSeedShouldGiveTheSameTokens() {
    SamplingParams params = new SamplingParams(0.9, 0, 1.0, 42);
    SplittableRandom a = new SplittableRandom(params.seed());
    SplittableRandom b = new SplittableRandom(params.seed());
    for (int i = 0; i < 100; i++) {
      assertThat(Sampler.sample(LOGITS, params, a)).isEqualTo(Sampler.sample(LOGITS, params, b));
    }
  }

  @Test
  void temperatureShouldScaleTheSoftmax() {
    float[] p = Sampler.distribution(LOGITS, SamplingParams.ofTemperature(2.0, 0));
    double z = 0;
    for (float l : LOGITS) {
      z += Math.exp(l / 2.0);
    }
    for (int i = 0; i < LOGITS.length; i++) {
      assertThat((double) p[i]).isCloseTo(Math.exp(LOGITS[i] / 2.0) / z, within(1e-6));
    }
  }

  @Test
  void topKShouldKeepOnlyTheKMostLikely() {
    float[] p = Sampler.distribution(LOGITS, new SamplingParams(1.0, 2, 1.0, 0));
    assertThat(p[1]).isCloseTo(0.5f, within(1e-6f));
    assertThat(p[4]).isCloseTo(0.5f, within(1e-6f));
    assertThat(p[0] + p[2] + p[3] + p[5]).isZero();
  }

  @Test
  void topPShouldKeepTheSmallestSetReachingP() {
    // probabilities at T=1: tokens 1 and 4 hold ~0.37 each, token 2 ~0.14
    float[] p = Sampler.distribution(LOGITS, new SamplingParams(1.0, 0, 0.7, 0));
    assertThat(p[1] + p[4]).isCloseTo(1f, within(1e-6f));
    float[] wider = Sampler.distribution(LOGITS, new SamplingParams(1.0, 0, 0.8, 0));
    assertThat(wider[2]).isPositive();
    assertThat(wider[0]).isZero();
  }

  /**
   * Top-k and top-p read only the leading tokens of a row: on random rows (ties, signed zeros,
   * weights that underflow, large vocabularies) they keep the same tokens with the same
   * probabilities, bit for bit, as filtering a full stable sort of the row does.
   */
  @Test
  void filtersShouldKeepWhatAFullSortKeeps() {
    SplittableRandom random = new SplittableRandom(11);
    for (int trial = 0; trial < 400; trial++) {
      int vocab = 1 + random.nextInt(trial % 20 == 0 ? 40_000 : 600);
      float[] logits = new float[vocab];
      int style = trial % 4;
      for (int i = 0; i < vocab; i++) {
        logits[i] =
            switch (style) {
              case 0 -> (float) (random.nextDouble() * 6 - 3);
              case 1 -> random.nextInt(5); // many ties
              case 2 -> (float) (random.nextDouble() * 200 - 100); // most weights underflow
              default -> random.nextBoolean() ? -0.0f : 0.0f;
            };
      }
      int topK = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(Math.min(vocab + 2, 60));
      double topP = random.nextInt(3) == 0 ? 1.0 : 0.05 + 0.94 * random.nextDouble();
      SamplingParams params = new SamplingParams(0.3 + random.nextDouble(), topK, topP, 0);
      assertThat(Sampler.distribution(logits, params))
          .as("vocabulary %d, %s", vocab, params)
          .containsExactly(filteredByFullSort(logits, params));
    }
  }

  /** The filters over every token sorted by logit (largest first, equal logits by index). */
  private static float[] filteredByFullSort(float[] logits, SamplingParams params) {
    int vocab = logits.length;
    Integer[] order = new Integer[vocab];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
    float max = logits[order[0]];
    int keep = params.topK() > 0 && params.topK() < vocab ? params.topK() : vocab;
    double[] weights = new double[vocab];
    double sum = 0;
    for (int token = 0; token < vocab; token++) { // the unfiltered total sums in index order
      weights[token] = Math.exp((logits[token] - max) * (1.0 / params.temperature()));
    }
    for (int r = 0; r < keep; r++) {
      sum += weights[keep == vocab ? r : order[r]];
    }
    int kept = keep;
    if (params.topP() < 1.0) {
      double cumulative = 0;
      kept = 0;
      while (kept < keep) {
        cumulative += weights[order[kept++]] / sum;
        if (cumulative >= params.topP()) {
          break;
        }
      }
      sum = 0;
      for (int r = 0; r < kept; r++) {
        sum += weights[order[r]];
      }
    }
    float[] probabilities = new float[vocab];
    for (int r = 0; r < kept; r++) {
      int token = keep == vocab && params.topP() >= 1.0 ? r : order[r];
      probabilities[token] = (float) (weights[token] / sum);
    }
    return probabilities;
  }

  /**
   * One workspace serves row after row of a 32,000-token vocabulary, filtered or not, each row read
   * in place at its offset: every distribution is the one a fresh workspace gives (a filtered one
   * after an unfiltered one keeps no stale probabilities), and once its arrays exist the workspace
   * allocates nothing per distribution.
   */
  @Test
  void aReusedWorkspaceShouldGiveEachRowsDistributionAndAllocateNothing() {
    int vocab = 32_000;
    int rows = 4;
    SplittableRandom random = new SplittableRandom(11);
    float[] logits = new float[rows * vocab];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) (3 * random.nextGaussian());
    }
    SamplingParams[] params = {
      new SamplingParams(0.8, 0, 1.0, 0),
      new SamplingParams(0.8, 40, 1.0, 0),
      new SamplingParams(1.0, 0, 0.9, 0),
      new SamplingParams(0.7, 50, 0.95, 0)
    };
    SamplingWorkspace workspace = new SamplingWorkspace(vocab);
    for (int call = 0; call < 3 * rows * params.length; call++) {
      int row = call % rows;
      SamplingParams p = params[(call / rows) % params.length];
      float[] fresh =
          Sampler.distribution(Arrays.copyOfRange(logits, row * vocab, (row + 1) * vocab), p);
      assertThat(Sampler.distribution(logits, row * vocab, vocab, p, workspace))
          .as("row %d with %s", row, p)
          .containsExactly(fresh);
    }
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    int calls = 200;
    long before = threads.getThreadAllocatedBytes(thread);
    for (int call = 0; call < calls; call++) {
      Sampler.distribution(
          logits, (call % rows) * vocab, vocab, params[call % params.length], workspace);
    }
    long allocated = threads.getThreadAllocatedBytes(thread) - before;
    assertThat(allocated).as("bytes %d distributions allocated", calls).isLessThan(calls * 16L);
  }

  @Test
  void drawsShouldFollowTheDistribution() {
    float[] p = Sampler.distribution(LOGITS, SamplingParams.ofTemperature(1.0, 0));
    SplittableRandom random = new SplittableRandom(7);
    int[] counts = new int[LOGITS.length];
    int n = 200_000;
    for (int i = 0; i < n; i++) {
      counts[Sampler.draw(p, random)]++;
    }
    for (int i = 0; i < p.length; i++) {
      assertThat(counts[i] / (double) n).isCloseTo(p[i], within(0.005));
    }
  }
}
