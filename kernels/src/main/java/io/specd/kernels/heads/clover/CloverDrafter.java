package io.specd.kernels.heads.clover;

import io.specd.kernels.cpu.VectorMath;
import io.specd.kernels.heads.DraftDistribution;
import io.specd.kernels.heads.HeadCheckpoint;
import io.specd.kernels.heads.TreeSearch;
import io.specd.kernels.llama.AncestorMask;
import io.specd.kernels.llama.Backend;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.Linear;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.spec.Acceptance;
import io.specd.kernels.spec.DraftSession;
import io.specd.kernels.spec.DraftTree;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.Proposal;
import io.specd.kernels.spec.ProposalRequest;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
 * projector) is tabulated for the whole vocabulary at load, so a depth costs a few small products
 * on the backend and row look-ups on the host.
 */
public final class CloverDrafter implements Drafter {
  private final LlamaModel model;
  private final int dim;
  private final int vocab;
  private final float eps;
  private final CosineAttention fuse;
  private final CosineAttention recurrent;
  private final float[] fuseTable; // [V, 2D]: block A's [k̂ | v] per token
  private final float[] recurrentTable; // [V, 3D]: block B's [k̂ | v] and e·Wp_eᵀ + bp per token
  private final Linear firstProjection; // [D, D]
  private final float[] firstBias;
  private final Linear stateProjection; // [D, D]: the state half of the recurrent projector
  private final float[] cloverNorm;
  private final float[] headNorm;
  private final LlamaModel augmenting;
  private final KvCachePool pool;

  // scratch of the catch-up passes (one at a time, on the model owner's thread)
  private float[] pendingRows = new float[0]; // [rows, D] the sessions' pending target states
  private float[] fused = new float[0]; // [rows, D] block A's outputs on them

  /**
   * @param sessions how many requests can draft at once (slots of the augmenting KV pool)
   * @param capacity positions per request
   */
  public CloverDrafter(LlamaModel model, CloverCheckpoint weights, int sessions, int capacity) {
    this.model = model;
    this.dim = model.config().dim();
    this.vocab = model.config().vocabularySize();
    this.eps = model.config().rmsNormEps();
    Backend backend = model.backend();
    int heads = model.config().headCount();
    this.fuse = new CosineAttention(weights.fuse(), dim, heads, eps, backend);
    this.recurrent = new CosineAttention(weights.recurrent(), dim, heads, eps, backend);
    float[] embeddings = new float[vocab * dim]; // the tokens' LM-head rows, frozen
    for (int v = 0; v < vocab; v++) {
      model.lmHead().row(v, embeddings, v * dim);
    }
    this.fuseTable =
        CosineAttention.keysValues(weights.fuse(), embeddings, vocab, dim, heads, backend);
    this.recurrentTable = recurrentTable(weights, embeddings, heads, backend);
    this.firstProjection = backend.linear(weights.firstProjection(), dim, dim);
    this.firstBias = weights.firstBias();
    this.stateProjection = backend.linear(columns(weights.projection(), 0), dim, dim);
    this.cloverNorm = weights.cloverNorm();
    this.headNorm = weights.headNorm();
    this.augmenting = LlamaModel.decoderStack(model, weights.augmenting());
    this.pool = augmenting.newCachePool(sessions, capacity);
  }

  /** Loads a Clover-2 checkpoint (specd's config or a bare safetensors in the public layout). */
  public static CloverDrafter load(
      LlamaModel model, Path checkpointPath, int sessions, int capacity) {
    HeadCheckpoint checkpoint = HeadCheckpoint.open(checkpointPath);
    checkpoint.checkFor("clover", model);
    return new CloverDrafter(
        model, CloverCheckpoint.read(checkpoint, model.config()), sessions, capacity);
  }

  /** {@code [V, 3D]}: block B's keys and values, then {@code e·Wp_eᵀ + bp}, per token. */
  private float[] recurrentTable(
      CloverCheckpoint weights, float[] embeddings, int heads, Backend backend) {
    float[] keysValues =
        CosineAttention.keysValues(weights.recurrent(), embeddings, vocab, dim, heads, backend);
    float[] projected = new float[vocab * dim];
    try (Linear tokenHalf = backend.linear(columns(weights.projection(), dim), dim, dim)) {
      tokenHalf.apply(embeddings, 0, vocab, projected, 0);
    }
    float[] table = new float[vocab * 3 * dim];
    for (int v = 0; v < vocab; v++) {
      System.arraycopy(keysValues, v * 2 * dim, table, v * 3 * dim, 2 * dim);
      System.arraycopy(projected, v * dim, table, v * 3 * dim + 2 * dim, dim);
      VectorMath.add(table, v * 3 * dim + 2 * dim, weights.projectionBias(), 0, dim);
    }
    return table;
  }

  /** Columns {@code [from, from + D)} of the projector {@code [D, 2D]}, as {@code [D, D]}. */
  private float[] columns(float[] projection, int from) {
    float[] half = new float[dim * dim];
    for (int o = 0; o < dim; o++) {
      System.arraycopy(projection, o * 2 * dim + from, half, o * dim, dim);
    }
    return half;
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
    fuse.close();
    recurrent.close();
    firstProjection.close();
    stateProjection.close();
  }

  /**
   * Before a batch's proposals: the positions every drafting session has committed since its last
   * draft go through block A and the augmenting layers in one forward, where each session's own
   * catch-up read the augmenting layers' weights once for itself.
   */
  @Override
  public void beforeProposals(List<ProposalRequest> batch) {
    List<Session> drafting = new ArrayList<>();
    for (ProposalRequest request : batch) {
      if (request.plan().speculate()) {
        drafting.add((Session) request.session());
      }
    }
    catchUp(drafting);
  }

  /**
   * Runs the sessions' pending positions through block A and the augmenting layers, in one forward
   * (each session's from its own cache's next row); each session's state becomes that of its last
   * position.
   */
  private void catchUp(List<Session> sessions) {
    List<Session> waiting = sessions.stream().filter(s -> s.pendingCount > 0).toList();
    if (waiting.isEmpty()) {
      return;
    }
    int rows = waiting.stream().mapToInt(s -> s.pendingCount).sum();
    if (pendingRows.length < rows * dim) {
      pendingRows = new float[rows * dim];
      fused = new float[rows * dim];
    }
    int[] next = new int[rows];
    List<SequenceInput> inputs = new ArrayList<>(waiting.size());
    int at = 0;
    for (Session s : waiting) {
      int n = s.pendingCount;
      System.arraycopy(s.pending, 0, pendingRows, at * dim, n * dim);
      System.arraycopy(s.pendingNext, 0, next, at, n);
      int start = s.own.length();
      int[] positions = new int[n];
      for (int i = 0; i < n; i++) {
        positions[i] = start + i;
      }
      inputs.add(new SequenceInput(s.own, start, null, positions, AncestorMask.causal(n)));
      at += n;
    }
    fuse.apply(pendingRows, 0, rows, fuseTable, 2 * dim, next, fused);
    ForwardResult out =
        augmenting.forward(
            inputs,
            fused,
            ForwardOptions.layers(0, augmenting.config().layerCount(), ForwardOptions.Rows.LAST));
    for (int i = 0; i < waiting.size(); i++) {
      Session s = waiting.get(i);
      s.own.commitNext(s.pendingCount);
      s.pendingCount = 0;
      VectorMath.rmsNorm(
          out.preNormHidden(), out.hiddenOffset(out.row(i, 0)), dim, cloverNorm, eps, s.state, 0);
    }
  }

  /**
   * One request: the augmenting layers' cache and the recurrent state at the last position.
   *
   * <p>Committed positions are not run through block A and the augmenting layers at once: they wait
   * in {@code pending} until the next step that drafts, then go through in one batched pass, so
   * that steps that do not speculate cost the drafter nothing but a copy of the target's states (a
   * request that never drafts again never runs them). What waits is bounded by the session's
   * context: one state a position, a fraction of what the target's KV cache keeps for it.
   */
  private final class Session implements DraftSession {
    private final KvCache target;
    private final KvCache own;
    private final float[] state = new float[dim]; // s0 at the last committed position
    private float[] pending = new float[0]; // [p, D] target states of positions not yet passed
    private int[] pendingNext = new int[0]; // [p] the token that followed each
    private int pendingCount;
    private float[] rows = new float[0]; // [n, D] scratch: head outputs
    private float[] logits = new float[0]; // [n, V] scratch

    Session(KvCache target, KvCache own) {
      this.target = target;
      this.own = own;
    }

    @Override
    public void prefilled(int[] prompt, int from, int to, ForwardResult result, int next) {
      int first = result.hiddenOffset(result.row(0, 0));
      for (int i = from; i < to; i++) {
        defer(result.preNormHidden(), first + (i - from) * dim, i + 1 < to ? prompt[i + 1] : next);
      }
    }

    @Override
    public void accepted(Proposal proposal, Acceptance acceptance, ForwardResult verification) {
      int[] path = acceptance.path();
      for (int j = 0; j < path.length; j++) {
        int next =
            j + 1 < path.length ? proposal.tree().token(path[j + 1]) : acceptance.nextToken();
        int row = verification.hiddenOffset(verification.row(0, path[j]));
        defer(verification.preNormHidden(), row, next);
      }
    }

    /**
     * Queues one committed position: its target state at {@code hidden[offset…]} and next token.
     */
    private void defer(float[] hidden, int offset, int next) {
      if (pendingNext.length == pendingCount) {
        int grown = Math.max(16, 2 * pendingCount);
        pendingNext = Arrays.copyOf(pendingNext, grown);
        pending = Arrays.copyOf(pending, grown * dim);
      }
      System.arraycopy(hidden, offset, pending, pendingCount * dim, dim);
      pendingNext[pendingCount++] = next;
    }

    /** Runs the pending positions through the drafter (nothing if none wait). */
    private void catchUp() {
      CloverDrafter.this.catchUp(List.of(this));
    }

    @Override
    public Proposal propose(int root, Plan plan, SamplingParams sampling, RandomGenerator random) {
      if (!plan.speculate()) {
        return Proposal.fullForward(DraftTree.rootOnly(root), target);
      }
      catchUp();
      TreeSearch search = new TreeSearch(plan);
      // head 0 from s0
      float[] out = rows(dim);
      firstProjection.apply(state, 0, 1, out, 0);
      VectorMath.add(out, 0, firstBias, 0, dim);
      List<TreeSearch.Candidate> level = search.expand(-1, rank(out, 1, plan.branching())[0]);
      // each frontier node's own state comes from its parent's state and its token; parentStates
      // holds the states of the previous level, stateRow maps a candidate to its parent's row
      float[] parentStates = state.clone();
      Map<Integer, Integer> stateRow = new HashMap<>();
      for (int depth = 2; depth <= plan.maxDepth(); depth++) {
        List<TreeSearch.Candidate> frontier = search.frontier(level);
        if (frontier.isEmpty()) {
          break;
        }
        int n = frontier.size();
        float[] states = new float[n * dim];
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
          int parentRow = stateRow.getOrDefault(frontier.get(i).index(), 0);
          System.arraycopy(parentStates, parentRow * dim, states, i * dim, dim);
          tokens[i] = frontier.get(i).token();
        }
        float[] next = new float[n * dim];
        recurrent.apply(states, 0, n, recurrentTable, 3 * dim, tokens, next);
        out = rows(n * dim);
        stateProjection.apply(next, 0, n, out, 0);
        for (int i = 0; i < n; i++) {
          VectorMath.add(out, i * dim, recurrentTable, tokens[i] * 3 * dim + 2 * dim, dim);
        }
        DraftDistribution[] ranked = rank(out, n, plan.branching());
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

    /**
     * Draft distributions of head outputs: {@code RMSNorm(out) ⊙ headNorm} through the LM head.
     *
     * @param out {@code [n, D]} head outputs before the norm (normalised in place)
     */
    private DraftDistribution[] rank(float[] out, int n, int candidates) {
      for (int i = 0; i < n; i++) {
        VectorMath.rmsNorm(out, i * dim, dim, headNorm, eps, out, i * dim);
      }
      if (logits.length < n * vocab) {
        logits = new float[n * vocab];
      }
      model.lmHead().apply(out, 0, n, logits, 0);
      return DraftDistribution.ofRows(logits, 0, n, vocab, candidates);
    }

    /** The row scratch, at least {@code size} floats. */
    private float[] rows(int size) {
      if (rows.length < size) {
        rows = new float[size];
      }
      return rows;
    }

    @Override
    public void close() {
      own.release();
    }
  }
}
