package io.specd.kernels.heads.lookup;

import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.spec.Acceptance;
import io.specd.kernels.spec.DraftSession;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.Proposal;
import io.specd.kernels.spec.ProposalRequest;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Prompt lookup first, a head drafter elsewhere ({@code kangaroo+lookup}, …): at a step where the
 * request's text offers a match ({@link LookupDrafter}), its draft — free, and where text repeats
 * more often right than a head's — is verified; at the other steps the inner drafter drafts as it
 * would alone. Both follow every committed token: the inner drafter takes a lookup step as a step
 * it did not draft, verified by a full forward, whose path's states it reads from that forward.
 */
public final class LookupFirstDrafter implements Drafter {
  /** What a drafter's name gains when lookup comes first. */
  public static final String SUFFIX = "+" + LookupDrafter.NAME;

  /**
   * The least acceptance rate (this request's, for the match's n-gram order; it starts at 1/2) at
   * which lookup drafts: sampled text repeats itself less, and at T = 1 lookup's first tokens were
   * accepted 0.26–0.33 of the time on the mixed prompts against Kangaroo's 0.43, which taking every
   * match had pulled below what drafting pays (docs/BENCHMARKS.md).
   */
  private static final float LEAST_RATE = 0.5f;

  private final Drafter inner;
  private final LookupDrafter lookup;

  /**
   * @param inner the drafter of the steps without a match, which this drafter closes
   */
  public LookupFirstDrafter(Drafter inner, LlamaConfig config) {
    this.inner = inner;
    this.lookup = new LookupDrafter(config);
  }

  @Override
  public String name() {
    return inner.name() + SUFFIX;
  }

  @Override
  public DraftSession open(KvCache cache) {
    return new Session(inner.open(cache), lookup.open(cache));
  }

  @Override
  public ForwardOptions prefillOptions() {
    return inner.prefillOptions();
  }

  @Override
  public ForwardOptions verifyOptions() {
    return inner.verifyOptions();
  }

  /** Lookup's drafts first; the inner drafter's batch work for the sessions lookup leaves it. */
  @Override
  public void beforeProposals(List<ProposalRequest> batch) {
    List<ProposalRequest> left = new ArrayList<>(batch.size());
    for (ProposalRequest request : batch) {
      Session session = (Session) request.session();
      session.fromLookup =
          session.lookup.propose(
              request.root(), request.plan(), request.sampling(), request.random());
      left.add(
          new ProposalRequest(
              session.inner,
              request.root(),
              drafts(session.fromLookup) ? Plan.NO_SPECULATION : request.plan(),
              request.sampling(),
              request.random()));
    }
    inner.beforeProposals(left);
  }

  @Override
  public void close() {
    inner.close();
  }

  /** Whether a step takes lookup's proposal: it drafted, from a match that has done well enough. */
  private static boolean drafts(Proposal lookup) {
    return lookup.tree().size() > 1 && lookup.tree().draftProbability(1) >= LEAST_RATE;
  }

  private static final class Session implements DraftSession {
    private final DraftSession inner;
    private final DraftSession lookup;
    private Proposal fromLookup; // this step's lookup proposal when the batch made it, else null

    Session(DraftSession inner, DraftSession lookup) {
      this.inner = inner;
      this.lookup = lookup;
    }

    @Override
    public void prefilled(int[] prompt, int from, int to, ForwardResult result, int next) {
      inner.prefilled(prompt, from, to, result, next);
      lookup.prefilled(prompt, from, to, result, next);
    }

    /** Lookup's match, when it is one this drafter would take. */
    @Override
    public double freeDraft(int root) {
      double rate = lookup.freeDraft(root);
      return rate >= LEAST_RATE ? rate : 0;
    }

    @Override
    public Proposal propose(int root, Plan plan, SamplingParams sampling, RandomGenerator random) {
      Proposal mine =
          fromLookup != null ? fromLookup : lookup.propose(root, plan, sampling, random);
      fromLookup = null;
      if (drafts(mine)) {
        inner.propose(root, Plan.NO_SPECULATION, sampling, random); // its step without a draft
        return mine;
      }
      return inner.propose(root, plan, sampling, random);
    }

    @Override
    public void accepted(Proposal proposal, Acceptance acceptance, ForwardResult verification) {
      inner.accepted(proposal, acceptance, verification);
      lookup.accepted(proposal, acceptance, verification);
    }

    @Override
    public void close() {
      inner.close();
      lookup.close();
    }
  }
}
