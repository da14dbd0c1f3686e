package io.specd.gpu;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.PreRestart;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.sample.TokenLogprobs;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.SessionState;
import io.specd.kernels.spec.SpeculativeStep;
import io.specd.policies.budget.VerifyCosts;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The only owner of the target model's device work and of every KV cache: one {@link SessionState}
 * per live session (target cache, drafting state, seeded generator), freed when the session
 * releases it or dies (watched). {@code Prefill} and {@code Verify} requests from many sessions
 * queue up and run in batches — one target forward per batch — which close at {@code max-batch}
 * requests, when every live session is waiting, or {@code batch-window} after the first request.
 * Before the first, it runs a short request of its own ({@link DeviceWarmUp}).
 *
 * <p>Runs only on {@link DeviceSettings#DISPATCHER} (one thread); every NDArray it creates lives in
 * a step manager closed within the handler, and only host values leave it. A failed batch answers
 * every waiting request with {@link Failed} and then fails the actor, so its supervisor restarts it
 * with no sessions; the model (immutable weights) and the drafter's weights survive the restart.
 */
public final class DeviceActor extends AbstractBehavior<DeviceActor.Command> {
  /** How much each earlier step weighs in the cost model after one more: 0.98 per step. */
  private static final double STEP_COST_DISCOUNT = 0.98;

  /** The verified tokens at which {@code /metrics} reports the cost model's step time. */
  private static final int[] REPORTED_TOKENS = {1, 2, 4, 8, 16, 32};

  /** What the device actor does. */
  public sealed interface Command
      permits Prefill, Verify, Release, InjectFault, RunBatch, SessionEnded {}

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
   * @param session the session actor, watched: its cache is freed when it stops
   */
  public record Prefill(
      String sessionId,
      int[] prompt,
      int maxTokens,
      SamplingParams sampling,
      int topLogprobs,
      ActorRef<?> session,
      ActorRef<Reply> replyTo)
      implements Command {}

  /**
   * One speculative step of a session (propose, verify in a batch, accept, commit); answers {@link
   * Verified} or {@link Failed}.
   */
  public record Verify(String sessionId, Plan plan, ActorRef<Reply> replyTo) implements Command {}

  /** Frees a session's KV cache and drafting state at once (end, cancellation). */
  public record Release(String sessionId) implements Command {}

  /** Test hook (only with {@code fault-injection = on}): the next batch fails with this message. */
  public record InjectFault(String message) implements Command {}

  private enum RunBatch implements Command {
    INSTANCE
  }

  private record SessionEnded(String sessionId) implements Command {}

  /** The device's answers to a session. */
  public sealed interface Reply permits Prefilled, Verified, Exhausted, Failed {}

  /**
   * The prompt is in the cache; {@code firstToken} is the first generated token, {@code logprobs}
   * its log-probabilities (empty unless asked for).
   */
  public record Prefilled(String sessionId, int firstToken, List<TokenLogprobs> logprobs)
      implements Reply {}

  /** A step's result: the tokens it commits and what the policy learns from. */
  public record Verified(String sessionId, SpeculativeStep.Stepped stepped) implements Reply {}

  /**
   * The session's KV cache is full: it cannot step again and ends as if it reached {@code
   * max_tokens}; the other sessions of its batch step on.
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

  private final TimerScheduler<Command> timers;
  private final KvCachePool pool;
  private final Map<String, SessionState> sessions = new HashMap<>();
  private final ArrayDeque<Command> queue = new ArrayDeque<>();
  // the requests of the batch running now that have no answer yet (a failure answers them)
  private final List<Command> unanswered = new ArrayList<>();
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
        context ->
            Behaviors.withTimers(
                timers ->
                    new DeviceActor(context, timers, model, drafter, mode, settings, observer)));
  }

  private DeviceActor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      LlamaModel model,
      Drafter drafter,
      AcceptanceMode mode,
      DeviceSettings settings,
      DeviceObserver observer) {
    super(context);
    this.timers = timers;
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
            "device ready: {} KV caches of {} tokens, batches of up to {} within {}",
            settings.kvSlots(),
            pool.capacity(),
            settings.maxBatch(),
            settings.batchWindow());
  }

  /** The tokens a session's KV cache holds under these settings. */
  public static int contextLength(LlamaModel model, DeviceSettings settings) {
    int own = model.config().contextLength();
    return settings.contextLength() == 0 ? own : Math.min(own, settings.contextLength());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Prefill.class, this::enqueue)
        .onMessage(Verify.class, this::enqueue)
        .onMessage(Release.class, r -> release(r.sessionId()))
        .onMessage(SessionEnded.class, e -> release(e.sessionId()))
        .onMessage(InjectFault.class, this::onInjectFault)
        .onMessageEquals(RunBatch.INSTANCE, this::onRunBatch)
        .onSignal(PreRestart.class, signal -> freeAll())
        .onSignal(PostStop.class, signal -> freeAll())
        .build();
  }

  private Behavior<Command> enqueue(Command request) {
    if (request instanceof Prefill p
        && (long) p.prompt().length + p.maxTokens() > pool.capacity()) {
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
    queue.add(request);
    observer.queueDepth(queue.size());
    if (queue.size() >= Math.min(settings.maxBatch(), sessionsThatMayWait())) {
      timers.cancel(RunBatch.INSTANCE);
      return onRunBatch();
    }
    if (!timers.isTimerActive(RunBatch.INSTANCE)) {
      timers.startSingleTimer(RunBatch.INSTANCE, settings.batchWindow());
    }
    return this;
  }

  /** Live sessions plus those waiting to prefill: a batch holding all of them waits for no one. */
  private int sessionsThatMayWait() {
    int opening = 0;
    for (Command c : queue) {
      if (c instanceof Prefill) {
        opening++;
      }
    }
    return sessions.size() + opening;
  }

  private Behavior<Command> onRunBatch() {
    List<Prefill> prefills = new ArrayList<>();
    List<Verify> verifies = new ArrayList<>();
    while (!queue.isEmpty() && prefills.size() + verifies.size() < settings.maxBatch()) {
      Command c = queue.poll();
      if (c instanceof Prefill p) {
        prefills.add(p);
      } else if (c instanceof Verify v) {
        SessionState state = sessions.get(v.sessionId());
        if (state == null) {
          v.replyTo().tell(new Failed(v.sessionId(), "the session has no state on the device"));
        } else if (state.full()) {
          v.replyTo().tell(new Exhausted(v.sessionId()));
        } else {
          verifies.add(v);
        }
      }
    }
    observer.queueDepth(queue.size());
    unanswered.addAll(prefills);
    unanswered.addAll(verifies);
    try {
      runPrefills(prefills);
      runVerifies(verifies);
    } catch (RuntimeException e) {
      String message = e.getMessage() == null ? e.toString() : e.getMessage();
      unanswered.forEach(queue::addFirst);
      unanswered.clear();
      failEverything(message);
      throw new DeviceFault("a device batch failed: " + message, e);
    }
    if (!queue.isEmpty()) {
      timers.startSingleTimer(RunBatch.INSTANCE, settings.batchWindow());
    }
    return this;
  }

  private void runPrefills(List<Prefill> prefills) {
    if (prefills.isEmpty()) {
      return;
    }
    checkInjectedFault();
    long start = System.nanoTime();
    List<Prefill> opened = new ArrayList<>();
    List<SessionState> states = new ArrayList<>();
    for (Prefill p : prefills) {
      if (pool.freeSlots() == 0) {
        p.replyTo().tell(new Failed(p.sessionId(), "no free KV cache on the device"));
        unanswered.remove(p);
        continue;
      }
      SessionState state =
          SessionState.open(pool, drafter, p.sampling(), p.maxTokens(), p.topLogprobs());
      sessions.put(p.sessionId(), state);
      getContext().watchWith(p.session(), new SessionEnded(p.sessionId()));
      opened.add(p);
      states.add(state);
    }
    if (opened.isEmpty()) {
      return;
    }
    int[] roots =
        SpeculativeStep.prefill(
            model, drafter, states, opened.stream().map(Prefill::prompt).toList());
    observer.batchRan("prefill", opened.size(), System.nanoTime() - start);
    observer.liveSessions(sessions.size());
    for (int i = 0; i < opened.size(); i++) {
      opened
          .get(i)
          .replyTo()
          .tell(
              new Prefilled(
                  opened.get(i).sessionId(), roots[i], states.get(i).committedLogprobs()));
      unanswered.remove(opened.get(i));
    }
  }

  private void runVerifies(List<Verify> verifies) {
    if (verifies.isEmpty()) {
      return;
    }
    checkInjectedFault();
    long start = System.nanoTime();
    List<SessionState> states = verifies.stream().map(v -> sessions.get(v.sessionId())).toList();
    List<SpeculativeStep.Result> results =
        SpeculativeStep.step(
            model, drafter, states, verifies.stream().map(Verify::plan).toList(), mode);
    long nanos = System.nanoTime() - start;
    observer.batchRan("verify", verifies.size(), nanos);
    learnStepCost(results, nanos);
    for (int i = 0; i < verifies.size(); i++) {
      Verify v = verifies.get(i);
      if (results.get(i) instanceof SpeculativeStep.Broken broken) {
        // only this session's state is unusable: it ends alone, the batch stepped on
        getContext().getLog().error("session {} failed in its step", v.sessionId(), broken.cause());
        release(v.sessionId());
        v.replyTo().tell(new Failed(v.sessionId(), "the step failed: " + broken.cause()));
      } else {
        v.replyTo().tell(new Verified(v.sessionId(), results.get(i).orThrow()));
      }
      unanswered.remove(v);
    }
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
    SessionState state = sessions.remove(sessionId);
    if (state != null) {
      state.close();
      observer.liveSessions(sessions.size());
    }
    queue.removeIf(
        c ->
            (c instanceof Verify v && v.sessionId().equals(sessionId))
                || (c instanceof Prefill p && p.sessionId().equals(sessionId)));
    return this;
  }

  /**
   * Answers every waiting request with the failure; live sessions without a request waiting learn
   * it at their next step (the restarted actor holds no state for them).
   */
  private void failEverything(String message) {
    getContext()
        .getLog()
        .error("device batch failed, failing {} sessions: {}", sessions.size(), message);
    String reason = "the device failed: " + message;
    for (Command c : queue) {
      if (c instanceof Prefill p) {
        p.replyTo().tell(new Failed(p.sessionId(), reason));
      } else if (c instanceof Verify v) {
        v.replyTo().tell(new Failed(v.sessionId(), reason));
      }
    }
    queue.clear();
  }

  private Behavior<Command> freeAll() {
    try {
      for (SessionState state : sessions.values()) {
        try {
          state.close();
        } catch (RuntimeException e) {
          getContext().getLog().error("freeing a session's device state failed", e);
        }
      }
      sessions.clear();
    } finally {
      pool.close();
    }
    observer.liveSessions(0);
    observer.queueDepth(0);
    return this;
  }
}
