package io.specd.kernels.spec;

import ai.djl.ndarray.NDManager;
import io.specd.kernels.generate.Decoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.GenerationResult;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaForward;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.sample.Sampler;
import io.specd.policies.spec.DecodeStats;
import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.FinishReason;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Speculative decoding of one request: prefill, then per step propose → verify (one target forward
 * over the draft tree) → accept → commit → emit → reward. Greedy output is identical to {@link
 * io.specd.kernels.generate.AutoregressiveDecoder}'s; sampled output has the same distribution
 * (lossless acceptance). Each step runs in its own NDManager. Not thread-safe.
 */
public final class SpeculativeDecoder implements Decoder {
  private final LlamaModel model;
  private final KvCachePool pool;
  private final Drafter drafter;
  private final Supplier<DraftPolicy> policies;
  private final AcceptanceMode mode;

  /**
   * @param model the target
   * @param pool where request caches come from
   * @param drafter the drafter
   * @param policies a new policy for each request
   * @param mode lossless, or Medusa's lossy typical acceptance when asked for explicitly
   */
  public SpeculativeDecoder(
      LlamaModel model,
      KvCachePool pool,
      Drafter drafter,
      Supplier<DraftPolicy> policies,
      AcceptanceMode mode) {
    this.model = model;
    this.pool = pool;
    this.drafter = drafter;
    this.policies = policies;
    this.mode = mode;
  }

  @Override
  public String name() {
    return drafter.name();
  }

  /** The name of the policy each request uses. */
  public String policyName() {
    return policies.get().name();
  }

  @Override
  public GenerationResult generate(GenerationRequest request, TokenSink sink) {
    request.checkFits(pool.capacity());
    Run run = new Run(request, sink);
    KvCache cache = pool.allocate();
    try (DraftSession session = drafter.open(cache)) {
      run.decode(cache, session);
    } finally {
      cache.release();
    }
    return run.result();
  }

  /** The state of one generation. */
  private final class Run {
    final GenerationRequest request;
    final TokenSink sink;
    final RandomGenerator random;
    final DraftPolicy policy = policies.get();
    final int eos = model.config().eosId();
    final int[] generated;
    int count;
    int steps;
    long drafted;
    long accepted;
    long[] acceptedPerDepth = new long[8];
    long[] draftedPerDepth = new long[8];
    FinishReason finish;
    long start;
    long firstToken;
    long end;

    Run(GenerationRequest request, TokenSink sink) {
      this.request = request;
      this.sink = sink;
      this.random = new SplittableRandom(request.sampling().seed());
      this.generated = new int[request.maxTokens()];
    }

    void decode(KvCache cache, DraftSession session) {
      start = System.nanoTime();
      int[] prompt = request.prompt();
      int root;
      try (NDManager step = model.manager().newSubManager()) {
        ForwardResult result =
            LlamaForward.forward(
                model, SequenceInput.causal(cache, prompt), drafter.prefillOptions(), step);
        cache.commit(prefix(prompt.length));
        int last = result.row(0, prompt.length - 1);
        root =
            Sampler.sample(
                new DeviceNodeLogits(result.logits(), last).logits(0), request.sampling(), random);
        session.prefilled(prompt, result, root, step);
      }
      firstToken = System.nanoTime();
      if (!emit(List.of(root))) {
        end = System.nanoTime();
        return;
      }
      while (true) {
        long stepStart = System.nanoTime();
        // the tree must fit the cache, and drafting past the last token to generate is wasted
        Plan planned =
            policy.plan(
                new DraftContext(drafter.name(), request.sampling().temperature(), count, 1));
        Plan plan =
            planned.limitedTo(cache.capacity() - cache.length() - 1, generated.length - count - 1);
        Acceptance acceptance;
        Proposal proposal;
        long drafting;
        try (NDManager step = model.manager().newSubManager()) {
          proposal = session.propose(root, plan, request.sampling(), random, step);
          drafting = System.nanoTime() - stepStart;
          ForwardResult verification =
              LlamaForward.forward(
                  model,
                  List.of(proposal.input()),
                  proposal.inputHidden(),
                  drafter.verifyOptions().withLayers(proposal.fromLayer()),
                  step);
          acceptance =
              Verifier.accept(
                  proposal.tree(),
                  new DeviceNodeLogits(verification.logits(), 0),
                  request.sampling(),
                  random,
                  mode);
          cache.commit(acceptance.path());
          session.accepted(proposal, acceptance, verification, step);
        }
        steps++;
        record(proposal.tree(), acceptance);
        policy.reward(
            outcome(
                planned,
                proposal.tree(),
                acceptance,
                drafting,
                System.nanoTime() - stepStart - drafting));
        int[] path = acceptance.path();
        Integer[] tokens = new Integer[path.length];
        for (int i = 1; i < path.length; i++) {
          tokens[i - 1] = proposal.tree().token(path[i]);
        }
        tokens[path.length - 1] = acceptance.nextToken();
        if (!emit(Arrays.asList(tokens))) {
          break;
        }
        root = acceptance.nextToken();
      }
      end = System.nanoTime();
    }

    /** Emits tokens until EOS, the token limit or a cancelling sink; false when generation ends. */
    boolean emit(List<Integer> tokens) {
      for (int token : tokens) {
        if (token == eos) {
          finish = FinishReason.STOP_TOKEN;
          return false;
        }
        generated[count++] = token;
        if (!sink.accept(token)) {
          finish = FinishReason.CANCELLED;
          return false;
        }
        if (count == generated.length) {
          finish = FinishReason.MAX_TOKENS;
          return false;
        }
      }
      return true;
    }

    void record(DraftTree tree, Acceptance acceptance) {
      int depth = tree.maxDepth();
      if (depth > draftedPerDepth.length) {
        draftedPerDepth = Arrays.copyOf(draftedPerDepth, depth);
        acceptedPerDepth = Arrays.copyOf(acceptedPerDepth, depth);
      }
      for (int d = 0; d < depth; d++) {
        draftedPerDepth[d]++;
      }
      for (int d = 0; d < acceptance.acceptedDrafts(); d++) {
        acceptedPerDepth[d]++;
      }
      drafted += tree.size() - 1;
      accepted += acceptance.acceptedDrafts();
    }

    Outcome outcome(
        Plan plan, DraftTree tree, Acceptance acceptance, long draftNanos, long verifyNanos) {
      int[] line = tree.mainLine();
      double[] confidence = new double[line.length];
      double[] entropy = new double[line.length];
      for (int i = 0; i < line.length; i++) {
        confidence[i] = tree.topProbability(line[i]);
        entropy[i] = tree.entropy(line[i]);
      }
      int[] path = acceptance.path();
      int onLine = 0;
      while (onLine < line.length && onLine + 1 < path.length && path[onLine + 1] == line[onLine]) {
        onLine++;
      }
      return new Outcome(
          plan,
          tree.size() - 1,
          tree.maxDepth(),
          acceptance.acceptedDrafts(),
          confidence,
          entropy,
          onLine,
          draftNanos,
          verifyNanos,
          1);
    }

    GenerationResult result() {
      int depths = 0;
      while (depths < draftedPerDepth.length && draftedPerDepth[depths] > 0) {
        depths++;
      }
      DecodeStats stats =
          new DecodeStats(
              request.prompt().length,
              count,
              steps,
              drafted,
              accepted,
              Arrays.copyOf(acceptedPerDepth, depths),
              Arrays.copyOf(draftedPerDepth, depths),
              firstToken - start,
              end - firstToken);
      return new GenerationResult(Arrays.copyOf(generated, count), finish, stats);
    }
  }

  static int[] prefix(int n) {
    int[] rows = new int[n];
    Arrays.setAll(rows, i -> i);
    return rows;
  }
}
