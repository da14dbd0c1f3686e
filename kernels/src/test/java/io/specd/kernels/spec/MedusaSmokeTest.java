package io.specd.kernels.spec;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.heads.medusa.MedusaDrafter;
import io.specd.kernels.heads.medusa.MedusaHeads;
import io.specd.kernels.heads.medusa.MedusaTree;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.SamplingParams;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MedusaSmokeTest {
  @Test
  void randomHeadsShouldStillGiveTheGreedyOutput() {
    try (LlamaModel model = TestModels.loadStories260K();
        KvCachePool pool = model.newCachePool(1, 256)) {
      int d = model.config().dim();
      SplittableRandom random = new SplittableRandom(3);
      float[][][] w = new float[1][4][d * d];
      float[][][] b = new float[1][4][d];
      for (float[] m : w[0]) {
        for (int i = 0; i < m.length; i++) {
          m[i] = (float) (random.nextGaussian() * 0.05);
        }
      }
      MedusaDrafter drafter =
          new MedusaDrafter(
              model, MedusaHeads.create(model, w, b, null), MedusaTree.uncalibrated(4, 10, 32));
      int[] prompt = model.tokenizer().encodePrompt("Once upon a time");
      GenerationRequest request = new GenerationRequest(prompt, 100, SamplingParams.GREEDY);
      int[] expected =
          new AutoregressiveDecoder(model, pool).generate(request, TokenSink.IGNORE).tokens();
      var result =
          new SpeculativeDecoder(
                  model, pool, drafter, () -> StaticPolicy.of(4, 32, 10), AcceptanceMode.LOSSLESS)
              .generate(request, TokenSink.IGNORE);
      assertThat(result.tokens()).containsExactly(expected);
      System.err.println(result.stats());
      drafter.close();
    }
  }
}
