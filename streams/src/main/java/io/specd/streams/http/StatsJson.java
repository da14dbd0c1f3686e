package io.specd.streams.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.policies.spec.DecodeStats;

/**
 * The one JSON form of a generation's {@link DecodeStats}, shared by the HTTP API's {@code
 * speculative} usage extension and {@code specd generate --json}: target steps, draft and accepted
 * tokens, mean tokens per step (counting the bonus token), acceptance rate overall and per draft
 * depth, tokens per second and the time to the first token.
 */
public final class StatsJson {
  private StatsJson() {}

  /** Writes the statistics' fields into {@code node}. */
  public static void write(DecodeStats stats, ObjectNode node) {
    node.put("steps", stats.steps());
    node.put("drafted_tokens", stats.draftedTokens());
    node.put("accepted_tokens", stats.acceptedTokens());
    node.put("mean_accepted", stats.meanAccepted());
    node.put("acceptance_rate", stats.acceptanceRate());
    ArrayNode perDepth = node.putArray("acceptance_per_depth");
    for (double rate : stats.acceptanceByDepth()) {
      perDepth.add(rate);
    }
    node.put("tokens_per_second", stats.tokensPerSecond());
    node.put("time_to_first_token_ms", stats.prefillNanos() / 1e6);
  }
}
