package io.specd.gpu;

import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.SessionState;
import io.specd.kernels.spec.SpeculativeStep;
import io.specd.policies.DraftShape;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import io.specd.policies.spec.StopRule;
import java.util.List;
import java.util.function.ObjLongConsumer;

/**
 * A short greedy request the device runs on its own before the first real one: plain steps and
 * drafts of every depth of the drafter's shape, in turn. The JIT compiles the drafter and the
 * kernels of larger verifications only after they have run for a while; without this the first
 * requests measured drafts at tens of times their cost, and the goodput planners handed those costs
 * on to the requests after them. Each step's time also seeds the device's cost model.
 */
final class DeviceWarmUp {
  private static final String PROMPT = "Once upon a time";

  private DeviceWarmUp() {}

  /**
   * Runs up to {@code steps} steps (fewer when the cache fills) in one session of {@code pool},
   * released afterwards.
   *
   * @param stepRan told each step's results and time
   * @return the steps run
   */
  static int run(
      LlamaModel model,
      Drafter drafter,
      KvCachePool pool,
      AcceptanceMode mode,
      int steps,
      ObjLongConsumer<List<SpeculativeStep.Result>> stepRan) {
    if (steps <= 0 || pool.freeSlots() == 0) {
      return 0;
    }
    int[] prompt = model.tokenizer().encodePrompt(PROMPT);
    DraftShape shape = DraftShape.forDrafter(drafter.name());
    int maxTokens = pool.capacity() - prompt.length;
    if (maxTokens < 2) {
      return 0;
    }
    try (SessionState state = SessionState.open(pool, drafter, SamplingParams.GREEDY, maxTokens)) {
      SpeculativeStep.prefill(model, drafter, List.of(state), List.of(prompt));
      int ran = 0;
      for (; ran < steps && !state.full(); ran++) {
        int depth = ran % (shape.maxDepth() + 1); // 0: a plain step
        Plan plan = depth == 0 ? Plan.NO_SPECULATION : shape.plan(depth, StopRule.NONE);
        long start = System.nanoTime();
        List<SpeculativeStep.Result> results =
            SpeculativeStep.step(model, drafter, List.of(state), List.of(plan), mode);
        stepRan.accept(results, System.nanoTime() - start);
        results.get(0).orThrow();
      }
      return ran;
    }
  }
}
