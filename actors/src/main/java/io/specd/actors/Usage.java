package io.specd.actors;

import io.specd.policies.spec.DecodeStats;

/**
 * A finished request's token counts and speculative statistics.
 *
 * @param drafter the drafter's name ({@code none} for plain decoding)
 * @param policy the draft policy's name
 * @param stats steps, drafted and accepted tokens, acceptance per depth, timings
 */
public record Usage(String drafter, String policy, DecodeStats stats) {

  public int promptTokens() {
    return stats.promptTokens();
  }

  public int completionTokens() {
    return stats.generatedTokens();
  }
}
