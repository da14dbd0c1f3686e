package io.specd.kernels.heads.medusa;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.specd.kernels.heads.DraftDistribution;
import io.specd.kernels.heads.HeadCheckpoint;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.Acceptance;
import io.specd.kernels.spec.DraftSession;
import io.specd.kernels.spec.DraftTree;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.Proposal;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Medusa drafting: after each verification the heads read the post-norm hidden state of the last
 * accepted node and rank candidates for each depth; the next step's tree takes, along the
 * calibrated static tree's rank paths, those candidates (children at the same depth carry the same
 * candidates whatever their parent, as Medusa heads do not see earlier draft tokens). The heads
 * need no KV cache and cost one small batched pass per step.
 */
public final class MedusaDrafter implements Drafter {
  private final LlamaModel model;
  private final MedusaHeads heads;
  private final MedusaTree tree;
  private final int ranks;

  public MedusaDrafter(LlamaModel model, MedusaHeads heads, MedusaTree tree) {
    if (tree.depth() > heads.count()) {
      throw new IllegalArgumentException(
          "the tree is " + tree.depth() + " deep but there are only " + heads.count() + " heads");
    }
    this.model = model;
    this.heads = heads;
    this.tree = tree;
    this.ranks = tree.ranks();
  }

  /**
   * Loads heads and their tree from a checkpoint (specd's JSON config, or a bare FasterDecoding
   * safetensors with a default tree).
   */
  public static MedusaDrafter load(LlamaModel model, Path checkpointPath) {
    HeadCheckpoint checkpoint = HeadCheckpoint.open(checkpointPath);
    checkpoint.checkFor("medusa", model);
    MedusaHeads heads = MedusaHeads.load(checkpoint, model);
    MedusaTree tree =
        checkpoint.config().has("tree")
            ? MedusaTree.fromJson(checkpoint.config().get("tree"))
            : MedusaTree.uncalibrated(heads.count(), 10, 64);
    return new MedusaDrafter(model, heads, tree);
  }

  @Override
  public String name() {
    return "medusa";
  }

  public MedusaTree tree() {
    return tree;
  }

  public MedusaHeads heads() {
    return heads;
  }

  @Override
  public ForwardOptions prefillOptions() {
    return ForwardOptions.lastLogits(model.config()).withHidden(true, false);
  }

  @Override
  public ForwardOptions verifyOptions() {
    return ForwardOptions.allLogits(model.config()).withHidden(true, false);
  }

  @Override
  public DraftSession open(KvCache cache) {
    return new Session(cache);
  }

  @Override
  public void close() {
    heads.close();
  }

  /** One request: the candidates the heads ranked at the last committed position. */
  private final class Session implements DraftSession {
    private final KvCache cache;
    private DraftDistribution[] candidates;

    Session(KvCache cache) {
      this.cache = cache;
    }

    @Override
    public void prefilled(int[] prompt, ForwardResult result, int root, NDManager step) {
      rank(result.postNormHidden());
    }

    @Override
    public Proposal propose(
        int root, Plan plan, SamplingParams sampling, RandomGenerator random, NDManager step) {
      if (!plan.speculate()) {
        return Proposal.fullForward(DraftTree.rootOnly(root), cache);
      }
      int depthLimit = Math.min(plan.maxDepth(), heads.count());
      for (int d = 1; d <= depthLimit; d++) { // the stop rule cuts the tree at the first weak head
        DraftDistribution head = candidates[d - 1];
        if (plan.stop().shouldStop(head.top(), head.entropy())) {
          depthLimit = d - 1;
          break;
        }
      }
      DraftTree.Builder builder = DraftTree.builder(root, DraftTree.Proposals.POINT_MASS);
      Map<String, Integer> nodes = new HashMap<>();
      for (int[] path : tree.select(plan, depthLimit)) {
        int depth = path.length;
        int parent = depth == 1 ? 0 : nodes.get(key(path, depth - 1));
        DraftDistribution head = candidates[depth - 1];
        int rank = path[depth - 1];
        int node =
            builder.add(
                parent, head.token(rank), head.probability(rank), head.top(), head.entropy(), null);
        nodes.put(key(path, depth), node);
      }
      return Proposal.fullForward(builder.build(), cache);
    }

    @Override
    public void accepted(
        Proposal proposal, Acceptance acceptance, ForwardResult verification, NDManager step) {
      NDArray all = verification.postNormHidden();
      int row = acceptance.lastNode();
      rank(all.get(new NDIndex().addSliceDim(row, row + 1)));
    }

    /** Runs the heads on {@code hidden [1, D]} and keeps each head's top candidates. */
    private void rank(NDArray hidden) {
      float[] logits = heads.logits(hidden).toFloatArray(); // [K, 1, V]
      int vocab = model.config().vocabularySize();
      candidates = new DraftDistribution[heads.count()];
      for (int k = 0; k < heads.count(); k++) {
        candidates[k] = DraftDistribution.of(logits, k * vocab, vocab, ranks);
      }
    }

    @Override
    public void close() {
      candidates = null;
    }
  }

  private static String key(int[] path, int length) {
    StringBuilder key = new StringBuilder();
    for (int i = 0; i < length; i++) {
      key.append(path[i]).append(',');
    }
    return key.toString();
  }
}
