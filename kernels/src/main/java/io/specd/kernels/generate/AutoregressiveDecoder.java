package io.specd.kernels.generate;

import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.sample.Sampler;
import io.specd.kernels.sample.SamplingWorkspace;
import io.specd.policies.spec.DecodeStats;
import io.specd.policies.spec.FinishReason;
import io.specd.policies.spec.StageTimes;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Plain decoding: one target forward per token. The baseline every drafter is measured against, and
 * the reference for greedy losslessness. Not thread-safe (it uses the model and a cache pool it
 * does not own).
 */
public final class AutoregressiveDecoder implements Decoder {
  private final LlamaModel model;
  private final KvCachePool pool;

  public AutoregressiveDecoder(LlamaModel model, KvCachePool pool) {
    this.model = model;
    this.pool = pool;
  }

  @Override
  public String name() {
    return "none";
  }

  @Override
  public GenerationResult generate(GenerationRequest request, TokenSink sink) {
    request.checkFits(pool.capacity());
    int[] prompt = request.prompt();
    int eos = model.config().eosId();
    int vocab = model.config().vocabularySize();
    RandomGenerator random = new SplittableRandom(request.sampling().seed());
    SamplingWorkspace workspace = new SamplingWorkspace(vocab);
    ForwardOptions options = ForwardOptions.lastLogits(model.config());
    int[] generated = new int[request.maxTokens()];
    int count = 0;
    int steps = 0;
    FinishReason finish = FinishReason.MAX_TOKENS;
    long start = System.nanoTime();
    long firstToken = start;
    long forwardNanos = 0;
    long sampleNanos = 0;
    KvCache cache = pool.allocate();
    try {
      int[] input = prompt;
      while (count < request.maxTokens()) {
        int next;
        long stepStart = System.nanoTime();
        long forwarded;
        ForwardResult result = model.forward(SequenceInput.causal(cache, input), options);
        cache.commitNext(input.length);
        forwarded = System.nanoTime();
        next = Sampler.sample(result.logits(), 0, vocab, request.sampling(), random, workspace);
        if (count > 0) {
          forwardNanos += forwarded - stepStart;
          sampleNanos += System.nanoTime() - forwarded;
        }
        if (count == 0) {
          firstToken = System.nanoTime();
        } else {
          steps++;
        }
        if (next == eos) {
          finish = FinishReason.STOP_TOKEN;
          break;
        }
        generated[count++] = next;
        if (!sink.accept(next)) {
          finish = FinishReason.CANCELLED;
          break;
        }
        input = new int[] {next};
      }
    } finally {
      cache.release();
    }
    long end = System.nanoTime();
    DecodeStats stats =
        new DecodeStats(
            prompt.length,
            count,
            steps,
            0,
            0,
            new long[0],
            new long[0],
            firstToken - start,
            end - firstToken,
            new StageTimes(0, forwardNanos, sampleNanos, 0));
    return new GenerationResult(Arrays.copyOf(generated, count), finish, stats);
  }
}
