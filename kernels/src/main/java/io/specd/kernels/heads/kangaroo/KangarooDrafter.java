package io.specd.kernels.heads.kangaroo;

import io.specd.kernels.cpu.VectorMath;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.heads.DraftDistribution;
import io.specd.kernels.heads.HeadCheckpoint;
import io.specd.kernels.llama.AncestorMask;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.HostLayer;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.sample.Sampler;
import io.specd.kernels.sample.SamplingWorkspace;
import io.specd.kernels.spec.Acceptance;
import io.specd.kernels.spec.DraftSession;
import io.specd.kernels.spec.DraftTree;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.Proposal;
import io.specd.kernels.spec.ProposalRequest;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Kangaroo, self-speculative: drafting runs the target's own first ℓ layers on each draft token
 * (writing the target's KV rows for those layers), then the adapter (one attention layer with its
 * own KV cache and norm) and the shared LM head; verification runs only layers ℓ..L, on the shallow
 * states drafting computed. A branch stops growing when its last token fails the stop rule (that
 * token is still verified) or at the plan's depth. Chains at T &gt; 0 are sampled from the warped
 * draft distribution (lossless rejection sampling); trees take top-k children.
 *
 * <p>All tensors here are the target's or the adapter's, and the work runs in the step of the
 * model's owner (DESIGN: one owner per tensor); the shallow states a draft needs are copied to the
 * host. The adapter lags the target by the committed positions whose shallow state it has not
 * consumed yet (the prompt after the prefill, at most the last accepted token afterwards); they are
 * replayed with its next call.
 */
public final class KangarooDrafter implements Drafter {
  private static final int[] NOTHING = {}; // no adapter row kept

  private final LlamaModel model;
  private final int exitLayer;
  private final int dim;
  private final int vocab;
  private final float[] norm; // [D]: the adapter's final RMSNorm gain
  private final LlamaModel adapter;
  private final KvCachePool pool;

  /**
   * Pending-state buffers of closed sessions, for the next ones (they grow to a whole sequence).
   */
  private final ArrayDeque<float[]> spareBuffers = new ArrayDeque<>();

  private final int sessions; // the most requests drafting at once: the most spare buffers kept

  // scratch of the drafting passes (one at a time, on the model owner's thread)
  private float[] adapterInput = new float[0]; // [rows, D] the adapter's input rows
  private float[] headInput = new float[0]; // [frontier rows, D] their normalised adapter states
  private float[] logits = new float[0]; // [frontier rows, V] their draft logits

  /**
   * @param exitLayer how many target layers a draft runs before the adapter
   * @param attention the adapter's attention layer (no MLP)
   * @param norm {@code [D]} the adapter's final RMSNorm gain
   * @param sessions how many requests can draft at once (slots of the adapter's KV pool)
   * @param capacity positions per request
   */
  public KangarooDrafter(
      LlamaModel model,
      int exitLayer,
      HostLayer attention,
      float[] norm,
      int sessions,
      int capacity) {
    checkExit(exitLayer, model.config());
    this.model = model;
    this.exitLayer = exitLayer;
    this.dim = model.config().dim();
    this.vocab = model.config().vocabularySize();
    this.norm = norm.clone();
    this.adapter = LlamaModel.decoderStack(model, List.of(attention));
    this.pool = adapter.newCachePool(sessions, capacity);
    this.sessions = sessions;
  }

  /**
   * Loads an adapter: specd's config (which records the exit layer) or a bare safetensors in the
   * public layout.
   *
   * @param exitLayer the exit layer, used when the checkpoint does not record one
   */
  public static KangarooDrafter load(
      LlamaModel model, Path checkpointPath, int exitLayer, int sessions, int capacity) {
    HeadCheckpoint checkpoint = HeadCheckpoint.open(checkpointPath);
    checkpoint.checkFor("kangaroo", model);
    int exit = checkpoint.config().path("exit_layer").asInt(exitLayer);
    LlamaConfig c = model.config();
    HeadCheckpoint.Reader r = checkpoint.reader();
    HostLayer layer =
        HostLayer.read(r::read, checkpoint.tensorNames()::contains, "layers.0.", c, false);
    float[] norm = r.read("norm.weight", c.dim());
    for (String name : checkpoint.tensorNames()) {
      if (name.startsWith("layers.0.mlp.") || name.startsWith("layers.1.")) {
        r.problem("unexpected tensor '" + name + "' (the adapter is one attention layer)");
      }
    }
    r.finish();
    try {
      return new KangarooDrafter(model, exit, layer, norm, sessions, capacity);
    } catch (IllegalArgumentException e) {
      throw new ModelFormatException(checkpointPath, e.getMessage(), e);
    }
  }

  /**
   * Checks an exit layer against the target.
   *
   * @throws IllegalArgumentException unless it is in {@code [1, layers)}
   */
  public static void checkExit(int exitLayer, LlamaConfig c) {
    if (exitLayer < 1 || exitLayer >= c.layerCount()) {
      throw new IllegalArgumentException(
          "the exit layer must be in [1, " + (c.layerCount() - 1) + "], got " + exitLayer);
    }
  }

  @Override
  public String name() {
    return "kangaroo";
  }

  @Override
  public ForwardOptions prefillOptions() {
    return ForwardOptions.allLogits(model.config()).withResidualAfter(exitLayer);
  }

  /**
   * Also the residual entering the exit layer: a step without a draft verifies with a full forward,
   * whose shallow state the adapter replays when drafting resumes (a partial forward just copies
   * its input there).
   */
  @Override
  public ForwardOptions verifyOptions() {
    return ForwardOptions.allLogits(model.config()).withResidualAfter(exitLayer);
  }

  /**
   * When a session of the batch drafts, every session's tree is grown here, level by level across
   * the batch: each level's shallow states in one forward of the target's first layers (the roots
   * first), each level's adapter rows in one forward of the adapter and one product of the LM head.
   * Alone, each drafting session read those weights once per level for itself; and the sessions
   * that do not draft verify from the exit layer too (their root's shallow state is computed with
   * the others'), so the whole batch verifies in one forward over the deep layers, where a full
   * forward for them besides read the target's weights a second time in the step.
   */
  @Override
  public void beforeProposals(List<ProposalRequest> batch) {
    if (batch.stream().noneMatch(request -> request.plan().speculate())) {
      return;
    }
    List<Growth> growths = new ArrayList<>(batch.size());
    for (ProposalRequest request : batch) {
      growths.add(new Growth(request));
    }
    grow(growths);
    for (Growth growth : growths) {
      growth.session.ready = growth.finish();
    }
  }

  /**
   * Grows trees from their roots: the roots' shallow states, then level after level the adapter on
   * each tree's frontier and the shallow states of the children it chose, in one pass per level for
   * all the trees still growing.
   */
  private void grow(List<Growth> growths) {
    shallowStates(growths);
    List<Growth> growing = new ArrayList<>(growths);
    for (int depth = 0; ; depth++) {
      int level = depth;
      growing.removeIf(growth -> !growth.pickFrontier(level));
      if (growing.isEmpty()) {
        return;
      }
      adapterLogits(growing);
      growing.forEach(Growth::addChildren);
      shallowStates(growing);
    }
  }

  /**
   * Target layers [0, ℓ) on each tree's last level, in one forward; the states {@code [n, D]} are
   * appended to each tree's draft.
   */
  private void shallowStates(List<Growth> growths) {
    List<SequenceInput> inputs = new ArrayList<>(growths.size());
    for (Growth growth : growths) {
      inputs.add(growth.levelInput());
    }
    ForwardResult out =
        model.forward(inputs, null, ForwardOptions.layers(0, exitLayer, ForwardOptions.Rows.ALL));
    for (int i = 0; i < growths.size(); i++) {
      Growth growth = growths.get(i);
      growth.draft.addShallow(
          out.preNormHidden(), out.hiddenOffset(out.row(i, 0)), growth.level.size());
    }
  }

  /**
   * The adapter on each tree's frontier (after replaying its session's pending positions, on a
   * tree's first level), in one forward; the frontiers' draft logits {@code [Σ frontier, V]} in
   * {@link #logits}, each tree's from its {@code logitsRow}.
   */
  private void adapterLogits(List<Growth> growths) {
    int rows = 0;
    int frontierRows = 0;
    for (Growth growth : growths) {
      rows += growth.adapterRows();
      frontierRows += growth.frontier.size();
    }
    adapterInput = atLeast(adapterInput, rows * dim);
    List<SequenceInput> inputs = new ArrayList<>(growths.size());
    int at = 0;
    for (Growth growth : growths) {
      inputs.add(growth.adapterInput(adapterInput, at));
      at += growth.adapterRows();
    }
    ForwardResult out =
        adapter.forward(inputs, adapterInput, ForwardOptions.layers(0, 1, ForwardOptions.Rows.ALL));
    // the frontiers' adapter states, normalised with the adapter's gain, through the LM head
    headInput = atLeast(headInput, frontierRows * dim);
    logits = atLeast(logits, frontierRows * vocab);
    float eps = model.config().rmsNormEps();
    int row = 0;
    for (int i = 0; i < growths.size(); i++) {
      Growth growth = growths.get(i);
      int replayed = growth.adapterRows() - growth.frontier.size();
      growth.logitsRow = row;
      for (Node node : growth.frontier) {
        int state = out.hiddenOffset(out.row(i, replayed + row - growth.logitsRow));
        VectorMath.rmsNorm(out.preNormHidden(), state, dim, norm, eps, headInput, row * dim);
        growth.draft.adapterOrder.add(node.index());
        row++;
      }
    }
    model.lmHead().apply(headInput, 0, frontierRows, logits, 0);
  }

  private static float[] atLeast(float[] buffer, int size) {
    return buffer.length >= size ? buffer : new float[size];
  }

  /** One session's tree in the making, grown a level at a time alongside the batch's others. */
  private final class Growth {
    final Session session;
    final Plan plan;
    final SamplingParams sampling;
    final RandomGenerator random;
    final int base; // the target cache's committed rows: the tree's first row
    final boolean sampled;
    final int maxDepth;
    final DraftTree.Builder tree;
    final Draft draft = new Draft();
    List<Node> level; // the nodes added last (the root first)
    List<Node> frontier = List.of(); // those of them the adapter runs on next
    int logitsRow; // the frontier's first row in the pass's draft logits

    Growth(ProposalRequest request) {
      this.session = (Session) request.session();
      this.plan = request.plan();
      this.sampling = request.sampling();
      this.random = request.random();
      this.base = session.target.length();
      this.sampled = plan.branching() == 1 && !sampling.isGreedy();
      this.maxDepth = plan.speculate() ? plan.maxDepth() : 0;
      this.tree =
          DraftTree.builder(
              request.root(),
              sampled ? DraftTree.Proposals.SAMPLED : DraftTree.Proposals.POINT_MASS);
      draft.nodes.add(new Node(0, -1, 0, request.root(), 0, 1f, 0f));
      this.level = List.of(draft.nodes.get(0));
    }

    /** Chooses the nodes to grow at {@code depth}; false when the tree is done. */
    boolean pickFrontier(int depth) {
      if (depth >= maxDepth || room() <= 0) {
        return false;
      }
      frontier =
          level.stream()
              .filter(n -> n.index() == 0 || !plan.stop().shouldStop(n.top(), n.entropy()))
              .sorted(Comparator.comparingDouble(n -> -n.score()))
              .limit(plan.branching())
              .toList();
      return !frontier.isEmpty();
    }

    private int room() {
      return plan.nodeBudget() - (draft.nodes.size() - 1);
    }

    /**
     * The frontier's children from their draft logits, the most probable within the budget, added
     * to the tree in that order (their rows in the target's and the adapter's caches): the next
     * level.
     */
    void addChildren() {
      List<Node> candidates = new ArrayList<>();
      List<float[]> distributions = new ArrayList<>();
      int offset = logitsRow * vocab;
      if (sampled) { // a chain: one frontier node, its child drawn from the warped draft
        Node parent = frontier.get(0);
        float[] q = session.draftDistribution(parent.depth(), logits, offset, sampling);
        int token = Sampler.draw(q, random);
        candidates.add(
            child(parent, token, q[token], DraftDistribution.of(logits, offset, vocab, 1)));
        distributions.add(q);
      } else {
        DraftDistribution[] ranked =
            DraftDistribution.ofRows(logits, offset, frontier.size(), vocab, plan.branching());
        for (int i = 0; i < frontier.size(); i++) {
          for (int rank = 0; rank < ranked[i].size(); rank++) {
            candidates.add(
                child(
                    frontier.get(i),
                    ranked[i].token(rank),
                    ranked[i].probability(rank),
                    ranked[i]));
            distributions.add(null);
          }
        }
      }
      Integer[] order = new Integer[candidates.size()];
      Arrays.setAll(order, i -> i);
      Arrays.sort(order, Comparator.comparingDouble(i -> -candidates.get(i).score()));
      List<Node> children = new ArrayList<>();
      for (int k = 0; k < Math.min(room(), order.length); k++) {
        Node c = candidates.get(order[k]);
        int index =
            tree.add(
                c.parent(),
                c.token(),
                (float) Math.exp(c.score() - draft.nodes.get(c.parent()).score()),
                c.top(),
                c.entropy(),
                distributions.get(order[k]));
        Node node =
            new Node(index, c.parent(), c.depth(), c.token(), c.score(), c.top(), c.entropy());
        draft.nodes.add(node);
        children.add(node);
      }
      level = children;
    }

    private Node child(Node parent, int token, float probability, DraftDistribution from) {
      return new Node(
          -1,
          parent.index(),
          parent.depth() + 1,
          token,
          parent.score() + Math.log(Math.max(probability, 1e-30f)),
          from.top(),
          from.entropy());
    }

    /** The last level's tokens at the target's rows {@code base + index}, each seeing its path. */
    SequenceInput levelInput() {
      int first = level.get(0).index();
      int n = level.size();
      int[] tokens = new int[n];
      int[] positions = new int[n];
      boolean[][] visible = new boolean[n][first + n];
      for (int i = 0; i < n; i++) {
        Node node = level.get(i);
        tokens[i] = node.token();
        positions[i] = base + node.depth();
        for (int a = node.index(); a >= 0; a = draft.nodes.get(a).parent()) {
          visible[i][a] = true;
        }
      }
      return new SequenceInput(
          session.target, base + first, tokens, positions, AncestorMask.of(visible));
    }

    /**
     * The adapter's rows this level: the session's pending positions on the first, the frontier.
     */
    int adapterRows() {
      return (draft.adapterOrder.isEmpty() ? session.pendingRows : 0) + frontier.size();
    }

    /**
     * Copies this level's adapter input rows to {@code into} from row {@code at}: their sequence in
     * the adapter's window (pending positions, earlier frontier nodes, these nodes).
     */
    SequenceInput adapterInput(float[] into, int at) {
      int p = draft.adapterOrder.isEmpty() ? session.pendingRows : 0;
      int before = draft.adapterOrder.size();
      int n = frontier.size();
      System.arraycopy(session.pending, 0, into, at * dim, p * dim);
      for (int i = 0; i < n; i++) {
        int node = frontier.get(i).index();
        System.arraycopy(draft.shallow, node * dim, into, (at + p + i) * dim, dim);
      }
      KvCache own = session.own;
      int replayed = session.pendingRows;
      int window = replayed + before + n;
      int start = own.length() + (before == 0 ? 0 : replayed + before);
      int tokens = p + n;
      boolean[][] visible = new boolean[tokens][window];
      int[] positions = new int[tokens];
      for (int i = 0; i < p; i++) { // pending positions, causal
        Arrays.fill(visible[i], 0, i + 1, true);
        positions[i] = own.length() + i;
      }
      for (int i = 0; i < n; i++) {
        Node node = frontier.get(i);
        boolean[] row = visible[p + i];
        Arrays.fill(row, 0, replayed, true);
        for (int a = node.parent(); a >= 0; a = draft.nodes.get(a).parent()) {
          row[replayed + draft.adapterOrder.indexOf(a)] = true;
        }
        row[replayed + before + i] = true;
        positions[p + i] = base + node.depth();
      }
      return new SequenceInput(own, start, null, positions, AncestorMask.of(visible));
    }

    /** The proposal: the tree, verified from the exit layer on the shallow states drafting made. */
    Proposal finish() {
      session.last = draft;
      DraftTree built = tree.build();
      SequenceInput verify =
          new SequenceInput(session.target, base, null, built.positions(base), built.mask());
      return new Proposal(
          built, verify, exitLayer, Arrays.copyOf(draft.shallow, draft.shallowRows * dim));
    }
  }

  @Override
  public DraftSession open(KvCache cache) {
    KvCache own = pool.allocate();
    float[] buffer;
    synchronized (spareBuffers) {
      buffer = spareBuffers.isEmpty() ? new float[0] : spareBuffers.pop();
    }
    return new Session(cache, own, buffer);
  }

  @Override
  public void close() {
    pool.close();
    adapter.close();
  }

  /**
   * The committed positions a session of this drafter has given the adapter, run or pending: after
   * every step, the target cache's length (the adapter lags by the pending ones, never loses one).
   */
  static int positionsHeld(DraftSession session) {
    Session s = (Session) session;
    return s.own.length() + s.pendingRows;
  }

  /** A drafted node (index = its tree node and its row among the proposal's shallow states). */
  private record Node(
      int index, int parent, int depth, int token, double score, float top, float entropy) {}

  /** One proposal's bookkeeping, kept until its acceptance is known. */
  private final class Draft {
    final List<Node> nodes = new ArrayList<>();
    final List<Integer> adapterOrder = new ArrayList<>(); // nodes the adapter ran on, in order
    float[] shallow = new float[0]; // [nodes, D]: row i is node i's shallow state
    int shallowRows;

    /** Appends shallow states {@code [n, D]} from {@code offset} (the next nodes' rows). */
    void addShallow(float[] states, int offset, int n) {
      if ((shallowRows + n) * dim > shallow.length) {
        shallow = Arrays.copyOf(shallow, Math.max(2 * shallow.length, (shallowRows + n) * dim));
      }
      System.arraycopy(states, offset, shallow, shallowRows * dim, n * dim);
      shallowRows += n;
    }
  }

  private final class Session implements DraftSession {
    private final KvCache target;
    private final KvCache own;

    /**
     * Shallow states {@code [pendingRows, D]} of committed positions the adapter has not consumed
     * yet (grown by doubling: steps without a draft append one each).
     */
    private float[] pending;

    private int pendingRows;

    private Draft last;
    private final Draft noDraft = new Draft(); // a step that drafted nothing

    // sampled chains: the warped draft distribution of each depth {@code [depth][V]}, kept by the
    // proposal's tree until its verification, and the arrays that compute them (made at first use)
    private float[][] draftDistributions = new float[0][];
    private SamplingWorkspace workspace;
    private Proposal ready; // grown with the batch's trees before this step's proposal, or null

    Session(KvCache target, KvCache own, float[] pending) {
      this.target = target;
      this.own = own;
      this.pending = pending;
    }

    /**
     * The warped draft distribution of the logits row at {@code offset}, in this session's array
     * for the child at {@code depth + 1} (reused from step to step: a step's tree is verified
     * before the next is drafted).
     */
    float[] draftDistribution(int depth, float[] logits, int offset, SamplingParams params) {
      if (workspace == null) {
        workspace = new SamplingWorkspace(vocab);
      }
      if (depth >= draftDistributions.length) {
        draftDistributions = Arrays.copyOf(draftDistributions, depth + 1);
      }
      if (draftDistributions[depth] == null) {
        draftDistributions[depth] = new float[vocab];
      }
      float[] q = draftDistributions[depth];
      System.arraycopy(
          Sampler.distribution(logits, offset, vocab, params, workspace), 0, q, 0, vocab);
      return q;
    }

    @Override
    public void prefilled(int[] prompt, int from, int to, ForwardResult result, int next) {
      if (from == 0) {
        pendingRows = 0;
      }
      appendPending(result, to - from);
    }

    /** Appends the shallow states of {@code rows} positions of a forward that kept them. */
    private void appendPending(ForwardResult result, int rows) {
      appendPending(result.residualAfter(exitLayer), result.hiddenOffset(result.row(0, 0)), rows);
    }

    private void appendPending(float[] states, int offset, int rows) {
      if ((pendingRows + rows) * dim > pending.length) {
        pending = Arrays.copyOf(pending, Math.max(2 * pending.length, (pendingRows + rows) * dim));
      }
      System.arraycopy(states, offset, pending, pendingRows * dim, rows * dim);
      pendingRows += rows;
    }

    @Override
    public Proposal propose(int root, Plan plan, SamplingParams sampling, RandomGenerator random) {
      if (ready != null) { // grown with the batch's (beforeProposals)
        Proposal proposal = ready;
        ready = null;
        return proposal;
      }
      if (!plan.speculate() || plan.maxDepth() == 0) { // the plain step, its shallow state kept
        last = noDraft;
        return Proposal.fullForward(DraftTree.rootOnly(root), target);
      }
      Growth growth = new Growth(new ProposalRequest(this, root, plan, sampling, random));
      grow(List.of(growth));
      return growth.finish();
    }

    @Override
    public void accepted(Proposal proposal, Acceptance acceptance, ForwardResult verification) {
      int[] path = acceptance.path();
      int lastNode = path[path.length - 1];
      if (last.adapterOrder.isEmpty()) {
        own.commit(NOTHING);
        // the adapter did not run: it still lags by the pending rows, and now by the path too
        if (proposal.fromLayer() == 0) {
          // a full forward (no draft, or another drafter's tree): each state from its row
          float[] states = verification.residualAfter(exitLayer);
          for (int node : path) {
            appendPending(states, verification.hiddenOffset(verification.row(0, node)), 1);
          }
        } else {
          appendPending(last.shallow, 0, 1);
        }
      } else {
        commitAdapter(path);
        pendingRows = 0;
        if (!last.adapterOrder.contains(lastNode)) {
          appendPending(last.shallow, lastNode * dim, 1);
        }
      }
      last = null;
    }

    /**
     * Keeps in the adapter's cache the pending positions it replayed and the accepted nodes it ran
     * on (rows of its window: replayed positions, then nodes in the order it ran them).
     */
    private void commitAdapter(int[] path) {
      int replayed = pendingRows;
      int[] keep = new int[replayed + path.length];
      int kept = 0;
      while (kept < replayed) {
        keep[kept] = kept;
        kept++;
      }
      for (int node : path) {
        int order = last.adapterOrder.indexOf(node);
        if (order >= 0) {
          keep[kept++] = replayed + order;
        }
      }
      own.commit(Arrays.copyOf(keep, kept));
    }

    @Override
    public void close() {
      own.release();
      synchronized (spareBuffers) { // once: a buffer handed on twice would be shared
        if (pending != null && spareBuffers.size() < sessions) {
          spareBuffers.push(pending);
        }
        pending = null;
      }
    }
  }
}
