package io.specd.policies.sim;

import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import java.util.List;
import java.util.function.Predicate;

/**
 * The outcomes of a simulated run, step by step, with the summaries tests and benchmarks need.
 *
 * @param outcomes one outcome per step, in order
 */
public record SimulationTrace(List<Outcome> outcomes) {

  public SimulationTrace {
    outcomes = List.copyOf(outcomes);
  }

  /** Committed tokens per second of simulated time. */
  public double tokensPerSecond() {
    long committed = outcomes.stream().mapToLong(Outcome::committed).sum();
    long nanos = outcomes.stream().mapToLong(Outcome::stepNanos).sum();
    return nanos == 0 ? 0 : committed * 1e9 / nanos;
  }

  /**
   * The regret of the first {@code steps} steps against a plan of known throughput: the tokens that
   * plan would have committed in the same simulated time, less the tokens these steps committed. A
   * learner's regret grows ever slower once it has found the best plan; negative when it beat the
   * plan (noise, or a plan that was not the best).
   *
   * @param bestTokensPerSecond the throughput of the plan compared with
   */
  public double regretTokens(int steps, double bestTokensPerSecond) {
    List<Outcome> prefix = outcomes.subList(0, steps);
    double seconds = prefix.stream().mapToLong(Outcome::stepNanos).sum() / 1e9;
    return bestTokensPerSecond * seconds - prefix.stream().mapToLong(Outcome::committed).sum();
  }

  /** The steps from {@code step} (counting from 0) on. */
  public SimulationTrace since(int step) {
    return new SimulationTrace(outcomes.subList(step, outcomes.size()));
  }

  /** The fraction of steps whose plan matches. */
  public double share(Predicate<Plan> plan) {
    return outcomes.isEmpty()
        ? 0
        : (double) outcomes.stream().filter(o -> plan.test(o.plan())).count() / outcomes.size();
  }

  /** The mean planned depth (0 for plain decoding steps). */
  public double meanPlannedDepth() {
    return outcomes.stream().mapToInt(o -> o.plan().maxDepth()).average().orElse(0);
  }
}
