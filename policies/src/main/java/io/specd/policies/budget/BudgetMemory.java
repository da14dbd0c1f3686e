package io.specd.policies.budget;

/**
 * What the goodput planners of one drafter and temperature band have learnt, shared across
 * requests: each request starts from the latest estimates a request published instead of learning
 * the drafter's acceptance and the device's costs from nothing (which, on requests of a hundred
 * tokens, cost as much as drafting saved), and publishes its own as it goes. Thread-safe.
 */
public final class BudgetMemory {
  private BudgetEstimates latest;

  /** A copy of the latest estimates published, or null before any. */
  synchronized BudgetEstimates snapshot() {
    return latest == null ? null : latest.copy();
  }

  /** Keeps a copy of {@code estimates} as the latest. */
  synchronized void publish(BudgetEstimates estimates) {
    latest = estimates.copy();
  }
}
