package io.specd.cli;

import io.specd.policies.spec.DecodeStats;
import io.specd.policies.spec.StageTimes;
import java.util.Arrays;
import java.util.List;

/** One measured configuration of {@code specd bench}, summed over the prompts. */
record BenchRun(
    String backend,
    String drafter,
    String policy,
    double temperature,
    long tokens,
    long nanos,
    long decodeNanos,
    long steps,
    long committedBySteps,
    long drafted,
    long accepted,
    long[] acceptedPerDepth,
    long[] draftedPerDepth,
    StageTimes stages,
    double opsPerStep) {
  /** Generated tokens over the whole time, prefills included. */
  double tokensPerSecond() {
    return tokens * 1e9 / nanos;
  }

  /**
   * Tokens after each prompt's first over the time they took: decoding alone, as llama.cpp's {@code
   * llama-bench} measures text generation ({@code tg}), without the prefill.
   */
  double decodeTokensPerSecond() {
    return decodeNanos == 0 ? 0 : committedBySteps * 1e9 / decodeNanos;
  }

  /** Tokens committed per target forward after the prefill, counting the bonus token. */
  double meanAccepted() {
    return steps == 0 ? 1.0 : (double) committedBySteps / steps;
  }

  /** Microseconds per step in each stage: propose, verify, accept, commit. */
  double[] stageMicros() {
    double per = Math.max(1, steps) * 1e3;
    return new double[] {
      stages.propose() / per, stages.verify() / per, stages.accept() / per, stages.commit() / per
    };
  }

  double acceptanceRate() {
    return drafted == 0 ? 0.0 : (double) accepted / drafted;
  }

  double[] acceptanceByDepth() {
    double[] rates = new double[draftedPerDepth.length];
    for (int d = 0; d < rates.length; d++) {
      rates[d] = draftedPerDepth[d] == 0 ? 0 : (double) acceptedPerDepth[d] / draftedPerDepth[d];
    }
    return rates;
  }

  /**
   * The configuration's figures over all its prompts.
   *
   * @param perPrompt each prompt's statistics
   */
  static BenchRun sum(
      String backend,
      String drafter,
      String policy,
      double temperature,
      double opsPerStep,
      List<DecodeStats> perPrompt) {
    long tokens = 0;
    long nanos = 0;
    long decodeNanos = 0;
    long steps = 0;
    long committedBySteps = 0;
    long drafted = 0;
    long accepted = 0;
    long[] acceptedPerDepth = new long[0];
    long[] draftedPerDepth = new long[0];
    StageTimes stages = StageTimes.ZERO;
    for (DecodeStats s : perPrompt) {
      tokens += s.generatedTokens();
      nanos += s.prefillNanos() + s.decodeNanos();
      decodeNanos += s.decodeNanos();
      steps += s.steps();
      committedBySteps += s.generatedTokens() - 1; // the first comes from the prefill
      drafted += s.draftedTokens();
      accepted += s.acceptedTokens();
      acceptedPerDepth = add(acceptedPerDepth, s.acceptedPerDepth());
      draftedPerDepth = add(draftedPerDepth, s.draftedPerDepth());
      stages = stages.plus(s.stages());
    }
    return new BenchRun(
        backend,
        drafter,
        policy,
        temperature,
        tokens,
        nanos,
        decodeNanos,
        steps,
        committedBySteps,
        drafted,
        accepted,
        acceptedPerDepth,
        draftedPerDepth,
        stages,
        opsPerStep);
  }

  private static long[] add(long[] sum, long[] more) {
    long[] out = Arrays.copyOf(sum, Math.max(sum.length, more.length));
    for (int i = 0; i < more.length; i++) {
      out[i] += more[i];
    }
    return out;
  }
}
