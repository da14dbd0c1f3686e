package io.specd.kernels.spec;

import io.specd.kernels.generate.Decoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.GenerationResult;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.policies.spec.DecodeStats;
import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.FinishReason;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StatsRecorder;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Speculative decoding of one request: prefill, then per step propose → verify (one target forward
 * over the draft tree) → accept → commit → emit → reward. Greedy output is identical to {@link
 * io.specd.kernels.generate.AutoregressiveDecoder}'s; sampled output has the same distribution
 * (lossless acceptance). Not thread-safe.
 */
public final class SpeculativeDecoder implements Decoder {
  private final LlamaModel model;
  private final KvCachePool pool;
  private final Drafter drafter;
  private final Supplier<DraftPolicy> policies;
  private final AcceptanceMode mode;

  /**
   * @param model the target
   * @param pool where request caches come from
   * @param drafter the drafter
   * @param policies a new policy for each request
   * @param mode lossless, or Medusa's lossy typical acceptance when asked for explicitly
   */
  public SpeculativeDecoder(
      LlamaModel model,
      KvCachePool pool,
      Drafter drafter,
      Supplier<DraftPolicy> policies,
      AcceptanceMode mode) {
    this.model = model;
    this.pool = pool;
    this.drafter = drafter;
    this.policies = policies;
    this.mode = mode;
  }

  @Override
  public String name() {
    return drafter.name();
  }

  /** The name of the policy each request uses. */
  public String policyName() {
    return policies.get().name();
  }

  @Override
  public GenerationResult generate(GenerationRequest request, TokenSink sink) {
    request.checkFits(pool.capacity());
    Run run = new Run(request, sink);
    try (SessionState state =
        SessionState.open(pool, drafter, request.sampling(), request.maxTokens())) {
      run.decode(state);
    }
    return run.result();
  }

  /** The host-side state of one generation: what was emitted, the policy and the statistics. */
  private final class Run {
    final GenerationRequest request;
    final TokenSink sink;
    final DraftPolicy policy = policies.get();
    final StatsRecorder recorder;
    final int eos = model.config().eosId();
    final int[] generated;
    int count;
    FinishReason finish;
    long start;
    long firstToken;
    long end;

    Run(GenerationRequest request, TokenSink sink) {
      this.request = request;
      this.sink = sink;
      this.generated = new int[request.maxTokens()];
      this.recorder = new StatsRecorder(request.prompt().length);
    }

    void decode(SessionState state) {
      start = System.nanoTime();
      int root =
          SpeculativeStep.prefill(model, drafter, List.of(state), List.of(request.prompt()))[0];
      firstToken = System.nanoTime();
      boolean more = emit(new int[] {root});
      while (more) {
        Plan plan =
            policy.plan(
                new DraftContext(
                    drafter.name(), request.sampling().temperature(), count, 1, state.freeDraft()));
        SpeculativeStep.Stepped stepped =
            SpeculativeStep.step(model, drafter, List.of(state), List.of(plan), mode)
                .get(0)
                .orThrow();
        recorder.record(stepped.outcome(), stepped.times());
        policy.reward(stepped.outcome());
        more = emit(stepped.tokens());
      }
      end = System.nanoTime();
    }

    /** Emits tokens until EOS, the token limit or a cancelling sink; false when generation ends. */
    boolean emit(int[] tokens) {
      for (int token : tokens) {
        if (token == eos) {
          finish = FinishReason.STOP_TOKEN;
          return false;
        }
        generated[count++] = token;
        if (!sink.accept(token)) {
          finish = FinishReason.CANCELLED;
          return false;
        }
        if (count == generated.length) {
          finish = FinishReason.MAX_TOKENS;
          return false;
        }
      }
      return true;
    }

    GenerationResult result() {
      DecodeStats stats = recorder.stats(count, firstToken - start, end - firstToken);
      return new GenerationResult(Arrays.copyOf(generated, count), finish, stats);
    }
  }
}
