package io.specd.kernels.heads.medusa;

import io.specd.kernels.format.ModelFormatException;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Medusa drafting: after each verification the heads read the post-norm hidden state of the last
 * accepted node and rank candidates for each depth; the next step's tree takes, along the
 * calibrated static tree's rank paths, those candidates (children at the same depth carry the same
 * candidates whatever their parent, as Medusa heads do not see earlier draft tokens). The heads
 * need no KV cache and cost one pass of each head over one row per step.
 *
 * <p>With a {@link LatticeRescorer} (block-draft refinement), the n-gram-rescored best paths
 * through the heads' candidates go into the tree first and the static rank paths fill the rest of
 * the node budget; the drafter is then named {@code medusa+ngram}.
 */
public final class MedusaDrafter implements Drafter {
  private final LlamaModel model;
  private final MedusaHeads heads;
  private final MedusaTree tree;
  private final int ranks;
  private final LatticeRescorer rescorer;

  public MedusaDrafter(LlamaModel model, MedusaHeads heads, MedusaTree tree) {
    this(model, heads, tree, null);
  }

  /**
   * @param rescorer block-draft refinement, or null for the static tree alone
   */
  public MedusaDrafter(
      LlamaModel model, MedusaHeads heads, MedusaTree tree, LatticeRescorer rescorer) {
    if (tree.depth() > heads.count()) {
      throw new IllegalArgumentException(
          "the tree is " + tree.depth() + " deep but there are only " + heads.count() + " heads");
    }
    this.model = model;
    this.heads = heads;
    this.tree = tree;
    this.ranks = tree.ranks();
    this.rescorer = rescorer;
  }

  /**
   * Loads heads and their tree from a checkpoint (specd's JSON config, or a bare FasterDecoding
   * safetensors with a default tree).
   *
   * @param refine rescore the head lattice with the checkpoint's n-gram model (block-draft
   *     refinement); the checkpoint must carry one
   * @throws io.specd.kernels.format.ModelFormatException if refinement is asked of a checkpoint
   *     without an n-gram model
   */
  public static MedusaDrafter load(LlamaModel model, Path checkpointPath, boolean refine) {
    HeadCheckpoint checkpoint = HeadCheckpoint.open(checkpointPath);
    checkpoint.checkFor("medusa", model);
    MedusaHeads heads = MedusaHeads.load(checkpoint, model);
    MedusaTree tree =
        checkpoint.config().has("tree")
            ? MedusaTree.fromJson(checkpoint.config().get("tree"))
            : MedusaTree.uncalibrated(heads.count(), 10, 64);
    LatticeRescorer rescorer = null;
    if (refine) {
      if (!NgramModel.presentIn(checkpoint.weights())) {
        heads.close();
        throw new ModelFormatException(
            checkpointPath,
            "block-draft refinement needs the n-gram model ("
                + NgramModel.UNIGRAM
                + ", …) that specd train-heads adds to Medusa checkpoints");
      }
      rescorer =
          new LatticeRescorer(
              NgramModel.read(checkpoint.weights()),
              checkpoint
                  .config()
                  .path("refinement")
                  .path("weight")
                  .asDouble(LatticeRescorer.DEFAULT_WEIGHT),
              checkpoint
                  .config()
                  .path("refinement")
                  .path("paths")
                  .asInt(LatticeRescorer.DEFAULT_PATHS));
    }
    return new MedusaDrafter(model, heads, tree, rescorer);
  }

  /** Whether a Medusa checkpoint carries the n-gram model block-draft refinement needs. */
  public static boolean refinable(Path checkpointPath) {
    return NgramModel.presentIn(HeadCheckpoint.open(checkpointPath).weights());
  }

  @Override
  public String name() {
    return rescorer == null ? "medusa" : "medusa+ngram";
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

  /**
   * One request: the target's state at the last committed position, and the candidates the heads
   * ranked from it, computed only when a step drafts (a step without a draft costs the heads
   * nothing).
   */
  private final class Session implements DraftSession {
    private final KvCache cache;
    private final float[] headLogits; // [K, V]
    private final float[] lastHidden; // [D] post-norm state at the last committed position
    private DraftDistribution[] candidates; // null until the heads ran on lastHidden
    private int lastCommitted; // the token before the root, for the n-gram context

    Session(KvCache cache) {
      this.cache = cache;
      this.headLogits = new float[heads.count() * model.config().vocabularySize()];
      this.lastHidden = new float[model.config().dim()];
    }

    @Override
    public void prefilled(int[] prompt, int from, int to, ForwardResult result, int next) {
      lastCommitted = prompt[to - 1];
      keep(result, result.row(0, 0));
    }

    @Override
    public Proposal propose(int root, Plan plan, SamplingParams sampling, RandomGenerator random) {
      if (!plan.speculate()) {
        return Proposal.fullForward(DraftTree.rootOnly(root), cache);
      }
      if (candidates == null) {
        rank();
      }
      int depthLimit = Math.min(plan.maxDepth(), heads.count());
      for (int d = 1; d <= depthLimit; d++) { // the stop rule cuts the tree at the first weak head
        DraftDistribution head = candidates[d - 1];
        if (plan.stop().shouldStop(head.top(), head.entropy())) {
          depthLimit = d - 1;
          break;
        }
      }
      List<int[]> paths = new ArrayList<>();
      if (rescorer != null && depthLimit > 0) {
        paths.addAll(rescorer.best(candidates, depthLimit, lastCommitted, root));
      }
      for (int[] rankPath : tree.select(plan, depthLimit)) {
        int[] tokens = new int[rankPath.length];
        for (int d = 0; d < tokens.length; d++) {
          tokens[d] = candidates[d].token(rankPath[d]);
        }
        paths.add(tokens);
      }
      DraftTree.Builder builder = DraftTree.builder(root, DraftTree.Proposals.POINT_MASS);
      Map<String, Integer> nodes = new HashMap<>(); // token prefix -> node
      for (int[] path : paths) {
        int parent = 0;
        for (int depth = 1; depth <= path.length; depth++) {
          String prefix = key(path, depth);
          Integer node = nodes.get(prefix);
          if (node == null) {
            if (builder.size() > plan.nodeBudget()) {
              break;
            }
            DraftDistribution head = candidates[depth - 1];
            node =
                builder.add(
                    parent,
                    path[depth - 1],
                    head.probabilityOf(path[depth - 1]),
                    head.top(),
                    head.entropy(),
                    null);
            nodes.put(prefix, node);
          }
          parent = node;
        }
      }
      return Proposal.fullForward(builder.build(), cache);
    }

    @Override
    public void accepted(Proposal proposal, Acceptance acceptance, ForwardResult verification) {
      int node = acceptance.lastNode();
      lastCommitted = proposal.tree().token(node);
      keep(verification, verification.row(0, node));
    }

    /** Keeps the post-norm hidden state of a result's row for the next draft. */
    private void keep(ForwardResult result, int row) {
      System.arraycopy(
          result.postNormHidden(), result.hiddenOffset(row), lastHidden, 0, lastHidden.length);
      candidates = null;
    }

    /** Runs the heads on the kept state and keeps each head's top candidates. */
    private void rank() {
      heads.logits(lastHidden, 0, 1, headLogits);
      candidates =
          DraftDistribution.ofRows(
              headLogits, 0, heads.count(), model.config().vocabularySize(), ranks);
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
