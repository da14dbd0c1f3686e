package io.specd.policies.budget;

import io.specd.policies.bandit.TemperatureBand;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The goodput planners' shared estimates, one {@link BudgetMemory} per drafter and {@link
 * TemperatureBand} (acceptance depends strongly on both). One per engine and drafter, held by its
 * policy factory. Thread-safe.
 */
public final class BudgetMemories {
  private record Key(String drafter, TemperatureBand temperature) {}

  private final ConcurrentMap<Key, BudgetMemory> memories = new ConcurrentHashMap<>();

  /** The memory of a drafter's requests at a temperature, created when first used. */
  BudgetMemory of(String drafter, double temperature) {
    return memories.computeIfAbsent(
        new Key(drafter, TemperatureBand.of(temperature)), key -> new BudgetMemory());
  }
}
