package io.specd.policies.spec;

import java.util.Arrays;

/**
 * Per-request decoding statistics, counted as vLLM does: a step is one target forward after the
 * prefill; each step commits its accepted draft tokens plus one bonus (or recovered) token.
 *
 * @param promptTokens tokens in the prompt
 * @param generatedTokens tokens emitted (the end-of-generation token excluded)
 * @param steps target forwards after the prefill (every generated token but the first needs one)
 * @param draftedTokens draft tokens proposed and verified
 * @param acceptedTokens draft tokens accepted
 * @param acceptedPerDepth accepted draft tokens by depth (index 0 = first draft token)
 * @param draftedPerDepth verified draft positions by depth (a tree counts once per depth)
 * @param prefillNanos time to first token
 * @param decodeNanos time from the first to the last token
 * @param stages how the decoding time splits over the step stages
 */
public record DecodeStats(
    int promptTokens,
    int generatedTokens,
    int steps,
    long draftedTokens,
    long acceptedTokens,
    long[] acceptedPerDepth,
    long[] draftedPerDepth,
    long prefillNanos,
    long decodeNanos,
    StageTimes stages) {

  public DecodeStats {
    acceptedPerDepth = acceptedPerDepth.clone();
    draftedPerDepth = draftedPerDepth.clone();
  }

  @Override
  public long[] acceptedPerDepth() {
    return acceptedPerDepth.clone();
  }

  @Override
  public long[] draftedPerDepth() {
    return draftedPerDepth.clone();
  }

  /**
   * Mean tokens committed per target forward, counting the bonus token (1.0 for plain decoding).
   */
  public double meanAccepted() {
    return steps == 0 ? 1.0 : (double) (generatedTokens - 1) / steps;
  }

  /** Accepted draft tokens over drafted ones (0 when nothing was drafted). */
  public double acceptanceRate() {
    return draftedTokens == 0 ? 0.0 : (double) acceptedTokens / draftedTokens;
  }

  /** Acceptance rate at each depth: accepted there over drafted there. */
  public double[] acceptanceByDepth() {
    double[] rates = new double[acceptedPerDepth.length];
    for (int d = 0; d < rates.length; d++) {
      rates[d] = draftedPerDepth[d] == 0 ? 0 : (double) acceptedPerDepth[d] / draftedPerDepth[d];
    }
    return rates;
  }

  /** Generated tokens per second of the whole request (prefill included). */
  public double tokensPerSecond() {
    long nanos = prefillNanos + decodeNanos;
    return nanos == 0 ? 0 : generatedTokens * 1e9 / nanos;
  }

  /** Tokens per second after the first token (decoding speed alone). */
  public double decodeTokensPerSecond() {
    return decodeNanos == 0 ? 0 : (generatedTokens - 1) * 1e9 / decodeNanos;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DecodeStats s
        && s.promptTokens == promptTokens
        && s.generatedTokens == generatedTokens
        && s.steps == steps
        && s.draftedTokens == draftedTokens
        && s.acceptedTokens == acceptedTokens
        && Arrays.equals(s.acceptedPerDepth, acceptedPerDepth)
        && Arrays.equals(s.draftedPerDepth, draftedPerDepth);
  }

  @Override
  public int hashCode() {
    return generatedTokens * 31 + steps;
  }

  @Override
  public String toString() {
    return String.format(
        "DecodeStats[prompt=%d, generated=%d, steps=%d, meanAccepted=%.2f, tokens/s=%.1f]",
        promptTokens, generatedTokens, steps, meanAccepted(), tokensPerSecond());
  }
}
