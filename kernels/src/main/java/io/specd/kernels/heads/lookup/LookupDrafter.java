package io.specd.kernels.heads.lookup;

import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.spec.Acceptance;
import io.specd.kernels.spec.DraftSession;
import io.specd.kernels.spec.DraftTree;
import io.specd.kernels.spec.Proposal;
import io.specd.kernels.spec.WeightlessDrafter;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Prompt lookup: drafts what followed the latest earlier occurrences of the text's last tokens (the
 * longest n-gram first, from {@link ContextIndex#MAX_ORDER} tokens down to {@link #MIN_ORDER}) in
 * the request's own prompt and output. No weights and no tensor work, so a draft costs next to
 * nothing and only its verification counts; it pays on text that repeats itself (code, lists,
 * quoted context, a model looping), for any model, heads or not.
 *
 * <p>The main line copies the latest match of the longest order to the plan's depth; with
 * branching, the next matches whose first token differs become sibling chains within the node
 * budget. Drafts are point masses (lossless at any temperature). A node's draft probability is the
 * rate at which this request's first draft tokens from a match of its order were accepted, which
 * the stop rules read and {@link DraftSession#freeDraft} reports to the planner.
 */
public final class LookupDrafter extends WeightlessDrafter {
  /** The drafter's name. */
  public static final String NAME = "lookup";

  private static final int MATCHES_SCANNED = 32; // occurrences looked at per proposal, at most

  /**
   * The shortest n-gram a draft follows. A single token's last occurrence is a weak guide: on the
   * mixed prompts (docs/bench/mixed-prompts.txt, greedy) first draft tokens were accepted 0.53 of
   * the time from orders 1–4 and 0.77 from orders 2–4 (which drafted at fewer steps: 1.29 and 1.21
   * tokens a step with one-token drafts), 0.79 from orders 3–4 (1.16 a step).
   */
  private static final int MIN_ORDER = 2;

  public LookupDrafter(LlamaConfig config) {
    super(config);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public DraftSession open(KvCache cache) {
    return new Session(cache);
  }

  /** One request's text and how its matches of each order fared. */
  private static final class Session implements DraftSession {
    private final KvCache cache;
    private final ContextIndex text;
    private final int[] proposed = new int[ContextIndex.MAX_ORDER]; // first draft tokens by order
    private final int[] taken = new int[ContextIndex.MAX_ORDER]; // of those, accepted
    // this step's sibling chains, in rank order: where each match ends and its n-gram order
    private int[] matchEnds = new int[4];
    private int[] matchOrders = new int[4];
    private int matches;
    private DraftTree proposal; // the last tree this session proposed

    Session(KvCache cache) {
      this.cache = cache;
      this.text = new ContextIndex(cache.capacity());
    }

    @Override
    public void prefilled(int[] prompt, int from, int to, ForwardResult result, int next) {
      for (int i = from; i < to; i++) {
        text.append(prompt[i]);
      }
    }

    @Override
    public Proposal propose(int root, Plan plan, SamplingParams sampling, RandomGenerator random) {
      matches = 0;
      if (plan.speculate()) {
        findMatches(root, plan.branching());
      }
      DraftTree.Builder tree = DraftTree.builder(root, DraftTree.Proposals.POINT_MASS);
      int budget = plan.nodeBudget();
      for (int m = 0; m < matches && budget > 0; m++) {
        double rate = acceptanceRate(matchOrders[m]);
        float p = (float) rate;
        float entropy = (float) binaryEntropy(rate);
        int depth = Math.min(plan.maxDepth(), budget);
        int parent = 0;
        for (int i = 0; i < depth; i++) {
          if (i > 0 && plan.stop().shouldStop(rate, entropy)) {
            break;
          }
          parent = tree.add(parent, text.following(matchEnds[m], root, i), p, p, entropy, null);
          budget--;
        }
      }
      proposal = tree.build();
      return Proposal.fullForward(proposal, cache);
    }

    /** The acceptance rate of the order of the match a draft would follow, or 0 without one. */
    @Override
    public double freeDraft(int root) {
      for (int order = ContextIndex.MAX_ORDER; order >= MIN_ORDER; order--) {
        if (text.latest(order, root) >= 0) {
          return acceptanceRate(order);
        }
      }
      return 0;
    }

    /** The latest matches of the longest orders whose first tokens differ, at most {@code n}. */
    private void findMatches(int root, int n) {
      if (matchEnds.length < n) {
        matchEnds = Arrays.copyOf(matchEnds, n);
        matchOrders = Arrays.copyOf(matchOrders, n);
      }
      int scanned = 0;
      for (int order = ContextIndex.MAX_ORDER; order >= MIN_ORDER && matches < n; order--) {
        for (int end = text.latest(order, root);
            end >= 0 && matches < n && scanned < MATCHES_SCANNED;
            end = text.earlier(order, root, end), scanned++) {
          if (!startsAMatch(text.following(end, root, 0), root)) {
            matchEnds[matches] = end;
            matchOrders[matches] = order;
            matches++;
          }
        }
      }
    }

    private boolean startsAMatch(int token, int root) {
      for (int m = 0; m < matches; m++) {
        if (text.following(matchEnds[m], root, 0) == token) {
          return true;
        }
      }
      return false;
    }

    /** Laplace's rule over this request's first draft tokens from matches of this order. */
    private double acceptanceRate(int order) {
      return (taken[order - 1] + 1.0) / (proposed[order - 1] + 2.0);
    }

    @Override
    public void accepted(Proposal verified, Acceptance acceptance, ForwardResult verification) {
      DraftTree tree = verified.tree();
      int[] path = acceptance.path();
      if (tree == proposal) { // else the step verified another drafter's tree (LookupFirstDrafter)
        int[] firsts = tree.children(0);
        for (int m = 0; m < firsts.length; m++) {
          proposed[matchOrders[m] - 1]++;
          if (path.length > 1 && path[1] == firsts[m]) {
            taken[matchOrders[m] - 1]++;
          }
        }
      }
      for (int node : path) {
        text.append(tree.token(node));
      }
    }

    @Override
    public void close() {}
  }

  /** The entropy (nats) of a yes/no draw with this probability. */
  private static double binaryEntropy(double p) {
    return p <= 0 || p >= 1 ? 0 : -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
  }
}
