package io.specd.kernels.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.specd.policies.spec.SamplingParams;
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
