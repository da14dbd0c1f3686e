package io.specd.kernels.spec;

import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.util.random.RandomGenerator;

/**
 * The drafter that never drafts: every step verifies the root alone, which is plain autoregressive
 * decoding run through the speculative step (so an engine without heads batches the same way).
 * Holds no weights.
 */
public final class PlainDrafter extends WeightlessDrafter {
  public PlainDrafter(LlamaConfig config) {
    super(config);
  }

  @Override
  public String name() {
    return "none";
  }

  @Override
  public DraftSession open(KvCache cache) {
    return new DraftSession() {
      @Override
      public void prefilled(int[] prompt, int from, int to, ForwardResult result, int next) {}

      @Override
      public Proposal propose(
          int root, Plan plan, SamplingParams sampling, RandomGenerator random) {
        return Proposal.fullForward(DraftTree.rootOnly(root), cache);
      }

      @Override
      public void accepted(Proposal proposal, Acceptance acceptance, ForwardResult verification) {}

      @Override
      public void close() {}
    };
  }
}
