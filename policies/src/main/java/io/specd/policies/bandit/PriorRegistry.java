package io.specd.policies.bandit;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The bandit's priors shared across requests, one per (drafter, {@link TemperatureBand}, arm
 * catalogue). The engine holds one registry for its lifetime and hands it to every {@link
 * BanditPolicy}; each request starts from a capped copy of its prior and feeds every step back into
 * it. Thread-safe.
 */
public final class PriorRegistry {
  /** Default forgetting of shared priors: about the last thousand steps of a band count. */
  public static final double DEFAULT_DISCOUNT = 0.999;

  private record Key(String drafter, TemperatureBand temperature, ArmCatalog arms) {}

  private final ConcurrentMap<Key, SharedPrior> priors = new ConcurrentHashMap<>();
  private final double discount;

  /** A registry whose priors forget with {@link #DEFAULT_DISCOUNT}. */
  public PriorRegistry() {
    this(DEFAULT_DISCOUNT);
  }

  /**
   * @param discount weight a prior's earlier steps of a band keep at each new step of that band, in
   *     (0, 1]
   */
  public PriorRegistry(double discount) {
    if (!(discount > 0 && discount <= 1)) {
      throw new IllegalArgumentException("prior discount must be in (0, 1], got " + discount);
    }
    this.discount = discount;
  }

  /**
   * The shared prior of a drafter at a temperature over the given arms, created when first used.
   */
  SharedPrior prior(String drafter, double temperature, ArmCatalog arms) {
    return priors.computeIfAbsent(
        new Key(drafter, TemperatureBand.of(temperature), arms),
        key -> new SharedPrior(arms.size(), discount));
  }

  /** How many priors exist (one per drafter, temperature band and arm catalogue seen). */
  public int size() {
    return priors.size();
  }
}
