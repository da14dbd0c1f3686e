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
import io.specd.kernels.spec.Acceptance;
import io.specd.kernels.spec.DraftSession;
import io.specd.kernels.spec.DraftTree;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.Proposal;
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
   * When a batch of two or more has a session that drafts: every session's root through the
   * target's shallow layers in one forward (each root at its own cache's next row), so that the
   * sessions that draft do not each read those layers for their root, and those that do not draft
   * verify from the exit layer too: the whole batch then verifies in one forward over the deep
   * layers, where a full forward for them besides read the target's weights twice in the step.
   */
  @Override
  public void beforeProposals(List<DraftSession> sessions, int[] roots, List<Plan> plans) {
    if (plans.stream().noneMatch(Plan::speculate)) {
      return;
    }
    List<SequenceInput> inputs = new ArrayList<>(sessions.size());
    for (int i = 0; i < sessions.size(); i++) {
      inputs.add(SequenceInput.causal(((Session) sessions.get(i)).target, new int[] {roots[i]}));
    }
    ForwardResult out =
        model.forward(inputs, null, ForwardOptions.layers(0, exitLayer, ForwardOptions.Rows.ALL));
    for (int i = 0; i < sessions.size(); i++) {
      ((Session) sessions.get(i)).rootShallow(out.preNormHidden(), out.hiddenOffset(out.row(i, 0)));
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

    private float[] adapterInput = new float[0]; // [p + n, D] scratch
    private float[] logits = new float[0]; // [n, V] scratch

    private Draft last;
    private final Draft noDraft = new Draft(); // a step that drafted nothing

    /** {@code [D]}: the root's shallow state, when the batch computed it before this proposal. */
    private final float[] rootShallow = new float[dim];

    private boolean rootShallowReady;

    Session(KvCache target, KvCache own, float[] pending) {
      this.target = target;
      this.own = own;
      this.pending = pending;
    }

    @Override
    public void prefilled(int[] prompt, ForwardResult result, int root) {
      pendingRows = 0;
      appendPending(result, prompt.length);
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

    void rootShallow(float[] states, int offset) {
      System.arraycopy(states, offset, rootShallow, 0, dim);
      rootShallowReady = true;
    }

    @Override
    public Proposal propose(int root, Plan plan, SamplingParams sampling, RandomGenerator random) {
      int base = target.length();
      boolean sampled = plan.branching() == 1 && !sampling.isGreedy();
      int maxDepth = plan.speculate() ? plan.maxDepth() : 0;
      boolean batched = rootShallowReady;
      rootShallowReady = false;
      if (maxDepth == 0 && !batched) { // no draft: the plain step, its shallow state kept for later
        last = noDraft;
        return Proposal.fullForward(DraftTree.rootOnly(root), target);
      }
      DraftTree.Builder tree =
          DraftTree.builder(
              root, sampled ? DraftTree.Proposals.SAMPLED : DraftTree.Proposals.POINT_MASS);
      Draft draft = new Draft();
      draft.nodes.add(new Node(0, -1, 0, root, 0, 1f, 0f));
      List<Node> level = List.of(draft.nodes.get(0));
      if (batched) {
        draft.addShallow(rootShallow, 0, 1);
      } else {
        shallowStates(draft, level, base);
      }
      for (int depth = 0; depth < maxDepth; depth++) {
        int room = plan.nodeBudget() - (draft.nodes.size() - 1);
        List<Node> frontier =
            level.stream()
                .filter(n -> n.index() == 0 || !plan.stop().shouldStop(n.top(), n.entropy()))
                .sorted(Comparator.comparingDouble(n -> -n.score()))
                .limit(plan.branching())
                .toList();
        if (frontier.isEmpty() || room <= 0) {
          break;
        }
        adapterLogits(draft, frontier); // [frontier, V]
        List<Node> candidates = new ArrayList<>();
        List<float[]> distributions = new ArrayList<>();
        if (sampled) { // a chain: one frontier node, its child drawn from the warped draft
          Node parent = frontier.get(0);
          float[] raw = Arrays.copyOf(logits, vocab);
          float[] q = Sampler.distribution(raw, sampling);
          int token = Sampler.draw(q, random);
          candidates.add(child(parent, token, q[token], DraftDistribution.of(raw, 0, vocab, 1)));
          distributions.add(q);
        } else {
          DraftDistribution[] ranked =
              DraftDistribution.ofRows(logits, 0, frontier.size(), vocab, plan.branching());
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
        // the most probable children within the budget, created now so that their order is their
        // row order in the target's and the adapter's caches
        Integer[] order = new Integer[candidates.size()];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingDouble(i -> -candidates.get(i).score()));
        List<Node> children = new ArrayList<>();
        for (int k = 0; k < Math.min(room, order.length); k++) {
          Node c = candidates.get(order[k]);
          int index =
              tree.add(
                  c.parent(),
                  c.token(),
                  (float) Math.exp(c.score() - scoreOf(draft, c.parent())),
                  c.top(),
                  c.entropy(),
                  distributions.get(order[k]));
          Node node =
              new Node(index, c.parent(), c.depth(), c.token(), c.score(), c.top(), c.entropy());
          draft.nodes.add(node);
          children.add(node);
        }
        shallowStates(draft, children, base);
        level = children;
      }
      last = draft;
      DraftTree built = tree.build();
      SequenceInput verify =
          new SequenceInput(target, base, null, built.positions(base), built.mask());
      return new Proposal(
          built, verify, exitLayer, Arrays.copyOf(draft.shallow, draft.shallowRows * dim));
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

    private double scoreOf(Draft draft, int node) {
      return draft.nodes.get(node).score();
    }

    /**
     * Target layers [0, ℓ) on a level's nodes, at the rows {@code base + index}; their states
     * {@code [n, D]} are appended to the draft's.
     */
    private void shallowStates(Draft draft, List<Node> level, int base) {
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
      SequenceInput input =
          new SequenceInput(target, base + first, tokens, positions, AncestorMask.of(visible));
      ForwardResult out =
          model.forward(
              List.of(input), null, ForwardOptions.layers(0, exitLayer, ForwardOptions.Rows.ALL));
      draft.addShallow(out.preNormHidden(), out.hiddenOffset(out.row(0, 0)), n);
    }

    /**
     * The adapter on the frontier nodes (after replaying the pending positions): their draft logits
     * {@code [frontier, V]} in {@link #logits}.
     */
    private void adapterLogits(Draft draft, List<Node> frontier) {
      int p = draft.adapterOrder.isEmpty() ? pendingRows : 0;
      int before = draft.adapterOrder.size();
      int n = frontier.size();
      if (adapterInput.length < (p + n) * dim) {
        adapterInput = new float[(p + n) * dim];
      }
      System.arraycopy(pending, 0, adapterInput, 0, p * dim);
      for (int i = 0; i < n; i++) {
        int node = frontier.get(i).index();
        System.arraycopy(draft.shallow, node * dim, adapterInput, (p + i) * dim, dim);
      }
      // rows of the adapter's window: pending positions, earlier frontier nodes, these nodes
      int replayed = pendingRows;
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
        positions[p + i] = target.length() + node.depth();
      }
      SequenceInput sequence =
          new SequenceInput(own, start, null, positions, AncestorMask.of(visible));
      ForwardResult out =
          adapter.forward(
              List.of(sequence),
              adapterInput,
              ForwardOptions.layers(0, 1, ForwardOptions.Rows.ALL));
      frontier.forEach(node -> draft.adapterOrder.add(node.index()));
      // the frontier's adapter states, normalised with the adapter's gain, through the LM head
      float eps = model.config().rmsNormEps();
      for (int i = 0; i < n; i++) {
        int row = out.hiddenOffset(out.row(0, p + i));
        VectorMath.rmsNorm(out.preNormHidden(), row, dim, norm, eps, adapterInput, i * dim);
      }
      if (logits.length < n * vocab) {
        logits = new float[n * vocab];
      }
      model.lmHead().apply(adapterInput, 0, n, logits, 0);
    }

    @Override
    public void accepted(Proposal proposal, Acceptance acceptance, ForwardResult verification) {
      int[] path = acceptance.path();
      int lastNode = path[path.length - 1];
      if (last.adapterOrder.isEmpty()) {
        own.commit(NOTHING);
        // the adapter did not run: it still lags by the pending rows, and now by the root too
        if (last.shallowRows == 0) { // no draft: the root's state from the full forward
          appendPending(verification, 1);
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
