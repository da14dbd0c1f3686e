package io.specd.kernels.spec;

import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.sample.Sampler;
import io.specd.kernels.sample.SamplingWorkspace;
import io.specd.kernels.sample.TokenLogprobs;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * The device-side state of one request between steps: its target KV cache, its drafting state and
 * its seeded random generator, and the root of the next draft (the last token the target chose, not
 * yet in the cache). Whoever owns the model owns these (the device actor, or {@link
 * SpeculativeDecoder}'s loop) and drives them through {@link SpeculativeStep}. When asked, it keeps
 * the target's log-probabilities of the tokens the last prefill or step committed, read from the
 * logits that chose them. Not thread-safe.
 */
public final class SessionState implements AutoCloseable {
  /** {@code topLogprobs} of a request that does not want log-probabilities. */
  public static final int NO_LOGPROBS = -1;

  private final KvCache cache;
  private final DraftSession drafting;
  private final SamplingParams sampling;
  private final RandomGenerator random;
  private final int maxTokens;
  private final int topLogprobs;
  private SamplingWorkspace workspace; // for the model's vocabulary, from the prefill on
  private List<TokenLogprobs> committedLogprobs = List.of();
  private int promptLength;
  private int root = -1;
  private boolean closed;

  private SessionState(
      KvCache cache,
      DraftSession drafting,
      SamplingParams sampling,
      int maxTokens,
      int topLogprobs) {
    this.cache = cache;
    this.drafting = drafting;
    this.sampling = sampling;
    this.random = new SplittableRandom(sampling.seed());
    this.maxTokens = maxTokens;
    this.topLogprobs = topLogprobs;
  }

  /**
   * Takes a cache from the pool and opens the drafter's state for a new request.
   *
   * @param maxTokens the most tokens the request generates (drafts never go past them)
   * @throws IllegalStateException when the pool has no free cache
   */
  public static SessionState open(
      KvCachePool pool, Drafter drafter, SamplingParams sampling, int maxTokens) {
    return open(pool, drafter, sampling, maxTokens, NO_LOGPROBS);
  }

  /**
   * Takes a cache from the pool and opens the drafter's state for a new request that wants the
   * log-probabilities of its tokens.
   *
   * @param topLogprobs how many of the most likely tokens to list per position (0 to {@link
   *     TokenLogprobs#MAX_TOP}), or {@link #NO_LOGPROBS}
   */
  public static SessionState open(
      KvCachePool pool, Drafter drafter, SamplingParams sampling, int maxTokens, int topLogprobs) {
    KvCache cache = pool.allocate();
    try {
      return new SessionState(cache, drafter.open(cache), sampling, maxTokens, topLogprobs);
    } catch (RuntimeException e) {
      cache.release();
      throw e;
    }
  }

  /** A part of the prefill's forward input: prompt positions {@code [from, to)}, causal. */
  SequenceInput prefillInput(int[] prompt, int from, int to) {
    if (from != cache.length()) {
      throw new IllegalStateException(
          "a prompt is prefilled in order: position " + from + " after " + cache.length());
    }
    return SequenceInput.causal(
        cache, from == 0 && to == prompt.length ? prompt : Arrays.copyOfRange(prompt, from, to));
  }

  /**
   * Commits prompt positions {@code [from, to)} and hands the drafter what it needs of them; after
   * the last part, samples the first token from its last row.
   *
   * @param result this sequence's outputs of the part ({@link Drafter#prefillOptions})
   * @return the first generated token, or -1 while the prompt has parts left
   */
  int prefilled(int[] prompt, int from, int to, ForwardResult result) {
    cache.commitNext(to - from);
    if (to < prompt.length) {
      drafting.prefilled(prompt, from, to, result, prompt[to]);
      return -1;
    }
    promptLength = prompt.length;
    int last = result.logitsOffset(result.row(0, to - from - 1));
    workspace = new SamplingWorkspace(result.vocabularySize());
    root =
        Sampler.sample(result.logits(), last, result.vocabularySize(), sampling, random, workspace);
    committedLogprobs =
        topLogprobs == NO_LOGPROBS
            ? List.of()
            : List.of(
                TokenLogprobs.of(
                    result.logits(), last, result.vocabularySize(), root, topLogprobs));
    drafting.prefilled(prompt, from, to, result, root);
    return root;
  }

  /** The drafter's free draft from the current root ({@link DraftSession#freeDraft}), or 0. */
  public double freeDraft() {
    return drafting.freeDraft(root);
  }

  /**
   * What drafting a tree from the current root asks of the drafter: the plan cut to what the cache
   * can still hold and to the tokens the request may still generate.
   */
  ProposalRequest proposalRequest(Plan plan) {
    Plan fitted =
        plan.limitedTo(cache.capacity() - cache.length() - 1, maxTokens - generated() - 1);
    return new ProposalRequest(drafting, root, fitted, sampling, random);
  }

  /**
   * Tokens the request has generated since its prefill: those committed after the prompt and the
   * root (generated but not cached yet).
   */
  public int generated() {
    return cache.length() - promptLength + 1;
  }

  /** Whether the request has generated its {@code max_tokens}. */
  public boolean atMaxTokens() {
    return generated() >= maxTokens;
  }

  /**
   * Whether the cache has no room left for the next root, so the session cannot step again (the
   * admission check prevents it; the device ends such a session alone, never its batch).
   */
  public boolean full() {
    return cache.length() >= cache.capacity();
  }

  /**
   * Picks the longest path the target agrees with and the target's next token.
   *
   * @param logits the target's logits at this sequence's tree nodes
   */
  Acceptance accept(Proposal proposal, NodeLogits logits, AcceptanceMode mode) {
    return Verifier.accept(proposal.tree(), logits, sampling, random, mode, workspace);
  }

  /** Keeps the accepted path in every cache and moves the root to the target's next token. */
  void commit(Proposal proposal, Acceptance acceptance, ForwardResult verification) {
    committedLogprobs = logprobs(proposal.tree(), acceptance, verification);
    cache.commit(acceptance.path());
    drafting.accepted(proposal, acceptance, verification);
    root = acceptance.nextToken();
  }

  /**
   * The target's log-probabilities of the tokens the last prefill or step committed, in order
   * (empty unless the request asked for them).
   */
  public List<TokenLogprobs> committedLogprobs() {
    return committedLogprobs;
  }

  /** Each committed token is scored by the logits of the node before it on the accepted path. */
  private List<TokenLogprobs> logprobs(
      DraftTree tree, Acceptance acceptance, ForwardResult verification) {
    if (topLogprobs == NO_LOGPROBS) {
      return List.of();
    }
    int[] path = acceptance.path();
    List<TokenLogprobs> scored = new ArrayList<>(path.length);
    for (int k = 0; k < path.length; k++) {
      int token = k + 1 < path.length ? tree.token(path[k + 1]) : acceptance.nextToken();
      int row = verification.logitsOffset(verification.row(0, path[k]));
      scored.add(
          TokenLogprobs.of(
              verification.logits(), row, verification.vocabularySize(), token, topLogprobs));
    }
    return List.copyOf(scored);
  }

  /** Frees the drafting state and returns the cache to its pool. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      drafting.close();
    } finally {
      cache.release();
    }
  }
}
