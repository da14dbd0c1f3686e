package io.specd.gpu;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.PreRestart;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.sample.TokenLogprobs;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.SessionState;
import io.specd.kernels.spec.SpeculativeStep;
import io.specd.policies.budget.VerifyCosts;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The only owner of the target model's device work and of every KV cache: one {@link SessionState}
 * per live session (target cache, drafting state, seeded generator), freed when the session
 * releases it or dies (watched). Sessions ask for their steps ahead ({@link Step}), so the device
 * never waits for a session between two steps: it runs rounds back to back while there is work,
 * each one prefilling the prompts that arrived and stepping every session that wants a step (up to
 * {@code max-batch} requests, those that waited longest first) as one batch — one target forward. A
 * round prefills at most {@code prefill-chunk} prompt tokens, the prompts begun before first: a
 * longer prompt goes on in the next rounds, between the other sessions' steps. What arrives during
 * a round joins the next (or, after rounds shorter than 100 µs run back to back, the first after
 * them). A session's results go out once they are as many as its steps still asked, or after {@code
 * reply-interval}, so fast steps reach it several to a reply. Each session's policy plans its step
 * here, knowing the batch it joins, and learns from the step's outcome here. Before the first
 * request it runs a short request of its own ({@link DeviceWarmUp}).
 *
 * <p>Runs only on {@link DeviceSettings#DISPATCHER} (one thread); every NDArray it creates lives in
 * a step manager closed within the handler, and only host values leave it. A failed batch answers
 * every live session and waiting prefill with {@link Failed} and then fails the actor, so its
 * supervisor restarts it with no sessions; the model (immutable weights) and the drafter's weights
 * survive the restart.
 */
public final class DeviceActor extends AbstractBehavior<DeviceActor.Command> {
  /** How much each earlier step weighs in the cost model after one more: 0.98 per step. */
  private static final double STEP_COST_DISCOUNT = 0.98;

  /** How long rounds run back to back before the device reads the messages that arrived. */
  private static final long ROUNDS_NANOS = 100_000;

  /** The verified tokens at which {@code /metrics} reports the cost model's step time. */
  private static final int[] REPORTED_TOKENS = {1, 2, 4, 8, 16, 32};

  /** What the device actor does. */
  public sealed interface Command
      permits Prefill, Step, Release, InjectFault, Round, SessionEnded {}

  /**
   * Opens a session: takes a KV cache, runs the prompt (batched with other prefills) and answers
   * {@link Prefilled} with the first token, or {@link Failed}.
   *
   * @param sessionId the session's id
   * @param prompt prompt token ids
   * @param maxTokens the most tokens the session generates
   * @param sampling the session's sampling (its seed seeds the device-side generator)
   * @param topLogprobs how many top tokens to list with each committed token's log-probability, or
   *     {@link SessionState#NO_LOGPROBS}
   * @param policy plans the session's steps and learns from them; the device's alone from now on
   * @param steps the steps the session wants after its prefill, as a {@link Step} would ask
   * @param session the session actor, watched: its cache is freed when it stops
   */
  public record Prefill(
      String sessionId,
      int[] prompt,
      int maxTokens,
      SamplingParams sampling,
      int topLogprobs,
      DraftPolicy policy,
      int steps,
      ActorRef<?> session,
      ActorRef<Reply> replyTo)
      implements Command {
    public Prefill {
      prompt = prompt.clone();
    }

    @Override
    public int[] prompt() {
      return prompt.clone();
    }
  }

  /**
   * The session wants {@code steps} more speculative steps (its policy plans, then propose, verify
   * in a batch, accept, commit); the device answers them with {@link Stepped} (each step's result
   * once, in order, several in one reply when they come fast), or once with {@link Exhausted} or
   * {@link Failed}. A session whose generation ended (EOS, {@code max_tokens}) is never stepped
   * again, whatever it asked for, and is not told: it ends by the same rule.
   */
  public record Step(String sessionId, int steps, ActorRef<Reply> replyTo) implements Command {}

  /** Frees a session's KV cache and drafting state at once (end, cancellation). */
  public record Release(String sessionId) implements Command {}

  /** Test hook (only with {@code fault-injection = on}): the next batch fails with this message. */
  public record InjectFault(String message) implements Command {}

  private enum Round implements Command {
    INSTANCE
  }

  private record SessionEnded(String sessionId) implements Command {}

  /** The device's answers to a session. */
  public sealed interface Reply permits Prefilled, Stepped, Exhausted, Failed {}

  /**
   * The prompt is in the cache; {@code firstToken} is the first generated token, {@code logprobs}
   * its log-probabilities (empty unless asked for).
   */
  public record Prefilled(String sessionId, int firstToken, List<TokenLogprobs> logprobs)
      implements Reply {}

  /**
   * The results of the session's steps run since its last reply, in order (at least one): the
   * tokens each commits and what the policy learnt from. The device holds a session's results while
   * it runs more of its steps, up to {@code reply-interval}, so on a small model a session is not
   * woken for each step of tens of microseconds.
   */
  public record Stepped(String sessionId, List<SpeculativeStep.Stepped> steps) implements Reply {
    public Stepped {
      steps = List.copyOf(steps);
    }
  }

  /**
   * The session's KV cache is full (the admission check prevents it): it cannot step again and ends
   * as if it reached {@code max_tokens}; the other sessions step on.
   */
  public record Exhausted(String sessionId) implements Reply {}

  /** The request failed; the session's device state is gone. */
  public record Failed(String sessionId, String message) implements Reply {}

  /** Thrown to the supervisor after a failed batch, to restart the actor. */
  public static final class DeviceFault extends RuntimeException {
    DeviceFault(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final LlamaModel model;
  private final Drafter drafter;
  private final AcceptanceMode mode;
  private final DeviceSettings settings;
  private final DeviceObserver observer;

  /** Step time against verified tokens, forgetting old steps (half-life ~35 steps). */
  private final VerifyCosts stepCost = new VerifyCosts();

  private final KvCachePool pool;
  private final Map<String, LiveSession> sessions = new HashMap<>();
  private final ArrayDeque<Prefill> prefills = new ArrayDeque<>();
  // the sessions opened whose prompts have parts left to prefill, in the order they arrived
  private final ArrayDeque<LiveSession> prefilling = new ArrayDeque<>();
  // the prefills of the round running now that have no session yet (a failure answers them)
  private final List<Prefill> unanswered = new ArrayList<>();
  private boolean roundPending;
  private long stepsRun;
  private String injectedFault;

  /**
   * The device actor's behaviour (spawn it on {@link DeviceSettings#DISPATCHER}).
   *
   * @param model the target (its owner closes it after the actor stops)
   * @param drafter the drafter every session uses (a {@code PlainDrafter} for none)
   * @param mode lossless, or typical acceptance when asked for explicitly
   */
  public static Behavior<Command> create(
      LlamaModel model,
      Drafter drafter,
      AcceptanceMode mode,
      DeviceSettings settings,
      DeviceObserver observer) {
    return Behaviors.setup(
        context -> new DeviceActor(context, model, drafter, mode, settings, observer));
  }

  private DeviceActor(
      ActorContext<Command> context,
      LlamaModel model,
      Drafter drafter,
      AcceptanceMode mode,
      DeviceSettings settings,
      DeviceObserver observer) {
    super(context);
    this.model = model;
    this.drafter = drafter;
    this.mode = mode;
    this.settings = settings;
    this.observer = observer;
    model.backend().prepareThread(); // setup runs on the device's own thread, as every op will
    this.pool = model.newCachePool(settings.kvSlots(), contextLength(model, settings));
    long start = System.nanoTime();
    int warmUp = 0;
    try {
      warmUp =
          DeviceWarmUp.run(model, drafter, pool, mode, settings.warmUpSteps(), this::learnStepCost);
    } catch (RuntimeException e) { // only the JIT's head start is lost: requests tell the rest
      context.getLog().warn("the device's warm-up request failed; serving without it", e);
    }
    if (warmUp > 0) {
      context
          .getLog()
          .info(
              "warmed up with {} steps in {} ms: a step of 1 token {} ms, {} ms more per token",
              warmUp,
              (System.nanoTime() - start) / 1_000_000,
              String.format("%.2f", 1e3 * stepCost.predict(1)),
              String.format("%.2f", 1e3 * stepCost.fittedSlope()));
    }
    observer.liveSessions(0);
    context
        .getLog()
        .info(
            "device ready: {} KV caches of {} tokens, batches of up to {}",
            settings.kvSlots(),
            pool.capacity(),
            settings.maxBatch());
  }

  /** The tokens a session's KV cache holds under these settings. */
  public static int contextLength(LlamaModel model, DeviceSettings settings) {
    int own = model.config().contextLength();
    return settings.contextLength() == 0 ? own : Math.min(own, settings.contextLength());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Prefill.class, this::onPrefill)
        .onMessage(Step.class, this::onStep)
        .onMessage(Release.class, r -> release(r.sessionId()))
        .onMessage(SessionEnded.class, e -> release(e.sessionId()))
        .onMessage(InjectFault.class, this::onInjectFault)
        .onMessageEquals(Round.INSTANCE, this::onRound)
        .onSignal(PreRestart.class, signal -> freeAll())
        .onSignal(PostStop.class, signal -> freeAll())
        .build();
  }

  private Behavior<Command> onPrefill(Prefill p) {
    if ((long) p.prompt().length + p.maxTokens() > pool.capacity()) {
      p.replyTo()
          .tell(
              new Failed(
                  p.sessionId(),
                  "the prompt has "
                      + p.prompt().length
                      + " tokens and max_tokens is "
                      + p.maxTokens()
                      + ", beyond the KV cache of "
                      + pool.capacity()
                      + " tokens"));
      return this;
    }
    prefills.add(p);
    scheduleRound();
    return this;
  }

  private Behavior<Command> onStep(Step step) {
    LiveSession live = sessions.get(step.sessionId());
    if (live == null) {
      step.replyTo().tell(new Failed(step.sessionId(), "the session has no state on the device"));
    } else if (live.ended()) {
      // a step asked ahead before the session saw its last tokens: it ends by the same rule
      return this;
    } else if (!live.canStep()) {
      exhausted(live);
    } else {
      live.want(step.steps());
      scheduleRound();
    }
    return this;
  }

  /** Runs a round after the messages that have arrived by now (a round runs what they ask). */
  private void scheduleRound() {
    if (!roundPending) {
      roundPending = true;
      getContext().getSelf().tell(Round.INSTANCE);
    }
  }

  /**
   * Rounds back to back while work remains, for up to {@link #ROUNDS_NANOS} before the messages
   * that arrived meanwhile are read (a message per round cost ~1.5 µs of a 25 µs step on
   * stories260K); then the next message of rounds, if work remains.
   */
  private Behavior<Command> onRound() {
    roundPending = false;
    long start = System.nanoTime();
    boolean more;
    do {
      more = round();
    } while (more && System.nanoTime() - start < ROUNDS_NANOS);
    if (more) {
      scheduleRound();
    }
    return this;
  }

  /**
   * One round: the waiting prompts' prefill, then a step of the sessions that want one, up to
   * {@code max-batch} requests together; the results due go out.
   *
   * @return whether work remains for another round
   */
  private boolean round() {
    try {
      int prefilled = runPrefills(settings.maxBatch());
      runSteps(waitingLongest(settings.maxBatch() - prefilled));
    } catch (RuntimeException e) {
      String message = e.getMessage() == null ? e.toString() : e.getMessage();
      failEverything(message);
      throw new DeviceFault("a device batch failed: " + message, e);
    }
    int waiting = prefills.size() + prefilling.size();
    long now = System.nanoTime();
    for (LiveSession live : sessions.values()) {
      live.sendIfDue(now, settings.replyNanos());
      waiting += live.wantsStep() ? 1 : 0;
    }
    observer.queueDepth(waiting);
    return waiting > 0;
  }

  /** Up to {@code most} of the sessions that want a step, those that stepped longest ago first. */
  private List<LiveSession> waitingLongest(int most) {
    List<LiveSession> ready = new ArrayList<>();
    for (LiveSession live : sessions.values()) {
      if (live.wantsStep()) {
        ready.add(live);
      }
    }
    if (ready.size() > most) {
      ready.sort(Comparator.comparingLong(LiveSession::lastStep));
      return ready.subList(0, Math.max(0, most));
    }
    return ready;
  }

  /**
   * Prefills, in one forward, the next parts of the prompts begun in earlier rounds and then of the
   * prompts that arrived, oldest first: at most {@code prefill-chunk} tokens in all and {@code
   * slots} sessions. A session whose last part ran is told its first token.
   *
   * @return the sessions this round prefilled a part of
   */
  private int runPrefills(int slots) {
    if (prefilling.isEmpty() && prefills.isEmpty()) {
      return 0;
    }
    checkInjectedFault();
    long start = System.nanoTime();
    int budget = settings.prefillChunk();
    List<LiveSession> batch = new ArrayList<>();
    List<SpeculativeStep.PromptPart> parts = new ArrayList<>();
    Iterator<LiveSession> begun = List.copyOf(prefilling).iterator(); // open() adds to it
    while (budget > 0 && batch.size() < slots && (begun.hasNext() || !prefills.isEmpty())) {
      LiveSession live = begun.hasNext() ? begun.next() : open(prefills.poll());
      if (live == null) {
        continue;
      }
      SpeculativeStep.PromptPart part = live.nextPart(budget);
      budget -= part.to() - part.from();
      batch.add(live);
      parts.add(part);
    }
    if (batch.isEmpty()) {
      return 0;
    }
    int[] roots =
        SpeculativeStep.prefillParts(
            model, drafter, batch.stream().map(live -> live.state).toList(), parts);
    observer.batchRan("prefill", batch.size(), System.nanoTime() - start);
    observer.liveSessions(sessions.size());
    for (int i = 0; i < batch.size(); i++) {
      if (parts.get(i).last()) {
        LiveSession live = batch.get(i);
        prefilling.remove(live);
        live.prefilled(roots[i]);
        live.tell(new Prefilled(live.id, roots[i], live.state.committedLogprobs()));
      }
    }
    return batch.size();
  }

  /**
   * Opens a session for a prompt that waited: its KV cache and drafting state, live (a failure from
   * here on answers it as a live session) and waiting for its prefill.
   *
   * @return the session, or null when no KV cache is free (it was told so)
   */
  private LiveSession open(Prefill p) {
    unanswered.add(p);
    if (pool.freeSlots() == 0) {
      p.replyTo().tell(new Failed(p.sessionId(), "no free KV cache on the device"));
      unanswered.remove(p);
      return null;
    }
    SessionState state =
        SessionState.open(pool, drafter, p.sampling(), p.maxTokens(), p.topLogprobs());
    LiveSession live = new LiveSession(state, p, drafter.name(), model.config().eosId());
    sessions.put(p.sessionId(), live);
    unanswered.remove(p);
    getContext().watchWith(p.session(), new SessionEnded(p.sessionId()));
    prefilling.add(live);
    return live;
  }

  private void runSteps(List<LiveSession> stepping) {
    List<LiveSession> batch = new ArrayList<>(stepping.size());
    for (LiveSession live : stepping) {
      if (live.canStep()) {
        batch.add(live);
      } else {
        exhausted(live);
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    checkInjectedFault();
    long start = System.nanoTime();
    List<Plan> plans = new ArrayList<>(batch.size());
    for (LiveSession live : batch) {
      plans.add(live.plan(batch.size()));
    }
    List<SpeculativeStep.Result> results =
        SpeculativeStep.step(
            model, drafter, batch.stream().map(live -> live.state).toList(), plans, mode);
    long nanos = System.nanoTime() - start;
    stepsRun++;
    observer.batchRan("verify", batch.size(), nanos);
    learnStepCost(results, nanos);
    long end = start + nanos;
    for (int i = 0; i < batch.size(); i++) {
      LiveSession live = batch.get(i);
      if (results.get(i) instanceof SpeculativeStep.Broken broken) {
        // only this session's state is unusable: it ends alone, the batch stepped on
        getContext().getLog().error("session {} failed in its step", live.id, broken.cause());
        release(live.id);
        live.tell(new Failed(live.id, "the step failed: " + broken.cause()));
        continue;
      }
      live.stepped(results.get(i).orThrow(), stepsRun, end);
      if (live.wantsStep() && !live.canStep()) {
        exhausted(live);
      }
    }
  }

  /** Tells a session that wants a step it cannot have one. */
  private void exhausted(LiveSession live) {
    live.refuse();
    live.tell(new Exhausted(live.id));
  }

  /**
   * Refits the cost model of a step, its time against the tokens it verified (each session's drafts
   * and root), and reports it.
   */
  private void learnStepCost(List<SpeculativeStep.Result> results, long nanos) {
    int tokens = 0;
    for (SpeculativeStep.Result result : results) {
      if (result instanceof SpeculativeStep.Stepped stepped) {
        tokens += stepped.outcome().draftedNodes() + 1;
      }
    }
    stepCost.add(tokens, nanos / 1e9, STEP_COST_DISCOUNT);
    observer.stepCosts(stepCost.fittedIntercept(), stepCost.fittedSlope());
    for (int reported : REPORTED_TOKENS) {
      observer.stepCost(reported, stepCost.predict(reported));
    }
  }

  private void checkInjectedFault() {
    if (injectedFault != null) {
      String message = injectedFault;
      injectedFault = null;
      throw new IllegalStateException(message);
    }
  }

  private Behavior<Command> onInjectFault(InjectFault fault) {
    if (settings.faultInjection()) {
      injectedFault = fault.message();
    } else {
      getContext().getLog().warn("ignored InjectFault: specd.gpu.fault-injection is off");
    }
    return this;
  }

  private Behavior<Command> release(String sessionId) {
    LiveSession live = sessions.remove(sessionId);
    if (live != null) {
      prefilling.remove(live);
      live.close();
      observer.liveSessions(sessions.size());
    }
    prefills.removeIf(p -> p.sessionId().equals(sessionId));
    return this;
  }

  /**
   * Answers every live session and every prompt waiting for its prefill with the failure (the
   * restarted actor holds no state for them).
   */
  private void failEverything(String message) {
    getContext()
        .getLog()
        .error("device batch failed, failing {} sessions: {}", sessions.size(), message);
    String reason = "the device failed: " + message;
    for (LiveSession live : sessions.values()) {
      live.tell(new Failed(live.id, reason));
    }
    unanswered.forEach(prefills::addFirst);
    unanswered.clear();
    for (Prefill p : prefills) {
      p.replyTo().tell(new Failed(p.sessionId(), reason));
    }
    prefills.clear();
  }

  private Behavior<Command> freeAll() {
    try {
      for (LiveSession live : sessions.values()) {
        try {
          live.close();
        } catch (RuntimeException e) {
          getContext().getLog().error("freeing a session's device state failed", e);
        }
      }
      sessions.clear();
      prefilling.clear();
    } finally {
      pool.close();
    }
    observer.liveSessions(0);
    observer.queueDepth(0);
    return this;
  }
}
