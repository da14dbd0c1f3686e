package io.specd.kernels.heads.clover;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.heads.DraftDistribution;
import io.specd.kernels.heads.HeadCheckpoint;
import io.specd.kernels.heads.TreeSearch;
import io.specd.kernels.llama.AncestorMask;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaForward;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
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
 * Clover-2 drafting. After each verification the newly committed positions go through the prefix
 * pass: block A fuses each position's pre-norm target state with the embedding of the token that
 * followed it, the augmenting layers run over them with their own KV cache, and the clover norm
 * yields the recurrent state s0 of the last position. Drafting then grows a tree depth by depth:
 * head 0 ranks depth-1 tokens from s0; every expanded node runs block B on its parent's state and
 * its own token (the regressive connection) to rank its children.
 *
 * <p>Everything a token contributes on its own (block A/B keys and values, the token half of the
 * projector) is precomputed for the whole vocabulary at load, so a depth costs a gather and a few
 * small products.
 */
public final class CloverDrafter implements Drafter {
  private final LlamaModel model;
  private final NDManager manager;
  private final CloverWeights weights;
  private final LlamaModel augmenting;
  private final KvCachePool pool;
  private final NDArray fuseTable; // [V, 2D]: block A keys/values per token
  private final NDArray recurrentTable; // [V, 3D]: block B keys/values and e·Wp_e + bp per token
  private final NDArray stateProjection; // [D, D]: the state half of the projector
  private final NDArray draftHead; // [D, V]: diag(headNorm)·W_lm
  private final int heads;

  /**
   * @param weights the trained modules (owned by {@code manager})
   * @param manager a sub-manager of the model's that the drafter owns
   * @param sessions how many requests can draft at once (slots of the augmenting KV pool)
   * @param capacity positions per request
   */
  public CloverDrafter(
      LlamaModel model, CloverWeights weights, NDManager manager, int sessions, int capacity) {
    this.model = model;
    this.manager = manager;
    this.weights = weights;
    this.heads = model.config().headCount();
    int d = model.config().dim();
    NDArray embeddings = model.weights().lmHead().transpose().duplicate(); // [V, D] = W_lm rows
    embeddings.attach(manager);
    this.fuseTable = weights.fuse().keysValues(embeddings, heads);
    this.recurrentTable =
        weights
            .recurrent()
            .keysValues(embeddings, heads)
            .concat(weights.projectTokens(embeddings), 1);
    this.stateProjection = weights.projection().get(new NDIndex().addSliceDim(0, d));
    this.draftHead = model.weights().lmHead().mul(weights.headNorm().reshape(d, 1));
    for (NDArray a : List.of(fuseTable, recurrentTable, stateProjection, draftHead)) {
      a.attach(manager);
    }
    this.augmenting = LlamaModel.decoderStack(model, weights.augmenting(), manager.newSubManager());
    this.pool = new KvCachePool(augmenting, sessions, capacity);
  }

  /** Loads a Clover-2 checkpoint (specd's config or a bare safetensors in the public layout). */
  public static CloverDrafter load(
      LlamaModel model, Path checkpointPath, int sessions, int capacity) {
    HeadCheckpoint checkpoint = HeadCheckpoint.open(checkpointPath);
    checkpoint.checkFor("clover", model);
    NDManager manager = model.manager().newSubManager();
    try {
      return new CloverDrafter(
          model, CloverWeights.load(checkpoint, model, manager), manager, sessions, capacity);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  @Override
  public String name() {
    return "clover";
  }

  @Override
  public ForwardOptions prefillOptions() {
    return ForwardOptions.allLogits(model.config()).withHidden(false, true);
  }

  @Override
  public ForwardOptions verifyOptions() {
    return ForwardOptions.allLogits(model.config()).withHidden(false, true);
  }

  @Override
  public DraftSession open(KvCache cache) {
    return new Session(cache, pool.allocate());
  }

  @Override
  public void close() {
    pool.close();
    augmenting.close();
    manager.close();
  }

  /** One request: the augmenting layers' cache and the recurrent state at the last position. */
  private final class Session implements DraftSession {
    private final KvCache target;
    private final KvCache own;
    private float[] state; // s0 at the last committed position, [D]

    Session(KvCache target, KvCache own) {
      this.target = target;
      this.own = own;
    }

    @Override
    public void prefilled(int[] prompt, ForwardResult result, int root, NDManager step) {
      int[] next = new int[prompt.length];
      System.arraycopy(prompt, 1, next, 0, prompt.length - 1);
      next[prompt.length - 1] = root;
      prefixPass(result.preNormHidden(), next, step);
    }

    @Override
    public void accepted(
        Proposal proposal, Acceptance acceptance, ForwardResult verification, NDManager step) {
      int[] path = acceptance.path();
      long[] rows = new long[path.length];
      int[] next = new int[path.length];
      for (int j = 0; j < path.length; j++) {
        rows[j] = path[j];
        next[j] = j + 1 < path.length ? proposal.tree().token(path[j + 1]) : acceptance.nextToken();
      }
      NDArray states = verification.preNormHidden().get(new NDIndex("{}", step.create(rows)));
      prefixPass(states, next, step);
    }

    /**
     * Runs newly committed positions through block A and the augmenting layers.
     *
     * @param hidden {@code [n, D]} the target's pre-norm states at those positions
     * @param next the token that followed each position
     */
    private void prefixPass(NDArray hidden, int[] next, NDManager step) {
      NDArray fused =
          weights.fuse().apply(hidden, gather(fuseTable, next, step), eps(), heads); // [n, D]
      int start = own.length();
      int[] positions = new int[next.length];
      for (int i = 0; i < positions.length; i++) {
        positions[i] = start + i;
      }
      ForwardResult out =
          LlamaForward.forward(
              augmenting,
              List.of(
                  new SequenceInput(own, start, null, positions, AncestorMask.causal(next.length))),
              fused,
              ForwardOptions.layers(0, augmenting.config().layerCount(), ForwardOptions.Rows.LAST),
              step);
      own.commit(prefixRows(next.length));
      state =
          LlamaForward.rmsUnit(out.preNormHidden(), eps()).mul(weights.cloverNorm()).toFloatArray();
    }

    @Override
    public Proposal propose(
        int root, Plan plan, SamplingParams sampling, RandomGenerator random, NDManager step) {
      if (!plan.speculate()) {
        return Proposal.fullForward(DraftTree.rootOnly(root), target);
      }
      int d = model.config().dim();
      TreeSearch search = new TreeSearch(plan);
      NDArray s0 = step.create(state, new Shape(1, d));
      NDArray logits = weights.firstHead(s0, eps()).matMul(draftHead); // [1, V]
      List<TreeSearch.Candidate> level =
          search.expand(-1, DraftDistribution.ofRows(logits, plan.branching())[0]);
      // each frontier node's own state comes from its parent's state and its token; parentStates
      // holds the states of the previous level, stateRow maps a candidate to its parent's row
      NDArray parentStates = s0;
      Map<Integer, Integer> stateRow = new HashMap<>();
      for (int depth = 2; depth <= plan.maxDepth(); depth++) {
        List<TreeSearch.Candidate> frontier = search.frontier(level);
        if (frontier.isEmpty()) {
          break;
        }
        int n = frontier.size();
        long[] rows = new long[n];
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
          rows[i] = stateRow.getOrDefault(frontier.get(i).index(), 0);
          tokens[i] = frontier.get(i).token();
        }
        NDArray states = parentStates.get(new NDIndex("{}", step.create(rows))); // [n, D]
        NDList table = gather(recurrentTable, tokens, step).split(new long[] {2L * d}, 1);
        NDArray next = weights.recurrent().apply(states, table.get(0), eps(), heads);
        NDArray out = LlamaForward.rmsUnit(next.matMul(stateProjection).add(table.get(1)), eps());
        DraftDistribution[] ranked =
            DraftDistribution.ofRows(out.matMul(draftHead), plan.branching()); // from [n, V]
        List<TreeSearch.Candidate> children = new ArrayList<>();
        Map<Integer, Integer> childRow = new HashMap<>();
        for (int i = 0; i < n; i++) {
          for (TreeSearch.Candidate c : search.expand(frontier.get(i).index(), ranked[i])) {
            childRow.put(c.index(), i);
            children.add(c);
          }
        }
        parentStates = next;
        stateRow = childRow;
        level = children;
      }
      return Proposal.fullForward(search.build(root), target);
    }

    @Override
    public void close() {
      own.release();
    }
  }

  private NDArray eps() {
    return model.weights().rmsNormEps();
  }

  private static NDArray gather(NDArray table, int[] tokens, NDManager step) {
    long[] ids = new long[tokens.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = tokens[i];
    }
    NDArray rows = table.get(new NDIndex("{}", step.create(ids)));
    rows.attach(step);
    return rows;
  }

  private static int[] prefixRows(int n) {
    int[] rows = new int[n];
    java.util.Arrays.setAll(rows, i -> i);
    return rows;
  }
}
