package io.specd.cli;

import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.Decoder;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.SpeculativeDecoder;
import io.specd.policies.DraftShape;
import io.specd.policies.PolicyFactory;
import io.specd.policies.PolicySettings;
import io.specd.policies.bandit.PriorRegistry;

/**
 * A decoder of the kernels' loop ready to run, the name of its policy, and the drafter it holds
 * (null for plain decoding), which {@link #close()} frees: what {@code specd bench} counts
 * PyTorch's ops per step on (its measurements run through the engine).
 */
record LoadedDecoder(Decoder decoder, String policy, Drafter drafter) implements AutoCloseable {

  /** Plain autoregressive decoding. */
  static LoadedDecoder plain(LlamaModel model, KvCachePool pool) {
    return new LoadedDecoder(new AutoregressiveDecoder(model, pool), "none", null);
  }

  /**
   * A drafter and a policy.
   *
   * @param drafter the drafter, which {@link #close()} frees
   * @param policy a policy name ({@link PolicyFactory#NAMES}), or null for the drafter's default
   * @param seed seeds the policy's own random choices
   * @throws IllegalArgumentException for an unknown policy
   */
  static LoadedDecoder speculative(
      LlamaModel model,
      KvCachePool pool,
      Drafter drafter,
      String policy,
      long seed,
      AcceptanceMode mode) {
    PolicyFactory policies =
        new PolicyFactory(
            PolicySettings.defaults(DraftShape.forDrafter(drafter.name())), new PriorRegistry());
    String name =
        policy != null ? policy : PolicyFactory.defaultFor(drafter.name(), model.backend().name());
    policies.create(name, seed); // an unknown policy fails here, before any work
    SpeculativeDecoder decoder =
        new SpeculativeDecoder(model, pool, drafter, () -> policies.create(name, seed), mode);
    return new LoadedDecoder(decoder, decoder.policyName(), drafter);
  }

  @Override
  public void close() {
    if (drafter != null) {
      drafter.close();
    }
  }
}
