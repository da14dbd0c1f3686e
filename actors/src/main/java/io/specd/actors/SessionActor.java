package io.specd.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.BehaviorBuilder;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import io.specd.gpu.DeviceActor;
import io.specd.kernels.sample.TokenLogprobs;
import io.specd.kernels.spec.SpeculativeStep;
import io.specd.kernels.tokenizer.IncrementalDecoder;
import io.specd.kernels.tokenizer.TextTokenizer;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.FinishReason;
import io.specd.policies.spec.StageTimes;
import io.specd.policies.spec.StatsRecorder;
import java.util.List;
import java.util.function.Supplier;

/**
 * One request, from prefill to its last event: it hands its policy to the device with its prompt,
 * asks the device for its steps (the device plans each with the policy, proposes, verifies in a
 * batch, commits and rewards the policy), and emits the committed tokens as text until EOS, {@code
 * max_tokens}, a stop string, cancellation, a device failure or the request timeout.
 *
 * <p>One behaviour per state: {@link #starting} (waiting for its policy), {@link #decoding} (steps
 * asked for, their text going out on demand) and {@link #ending} (the last events go out, then it
 * stops). It asks for steps ahead of those it has taken, so the device never waits for it between
 * steps: {@link #FIRST_AHEAD} with its prompt, then as many as take {@code
 * specd.session.read-ahead} of the device's time at the step length it measures ({@link
 * #aheadAfter}): on stories260K, where a step takes 25 µs, a session woken late (the JIT compiling
 * on the other core) left the device idle for 0.3–5 ms a few times a request while it asked for a
 * few steps at a time. Demand-driven: the consumer acknowledges each event with {@link Ack} ({@link
 * Outbox}), and an event carries the text of every step since the last one; steps whose text has
 * not gone out count against those asked ahead, so a slow consumer pauses the session (nothing
 * buffers more than the event it has not acknowledged and the steps asked ahead). The event it is
 * reading does not count: counted too, it held the device to the one step in flight while each
 * event went to the consumer and its acknowledgement came back (a thread's wake-up each way;
 * 19,500–21,100 against 22,400–23,000 tokens/s for one stories260K stream, asking 2 then 4 steps
 * ahead). When its generation ends, and when it stops, it releases its KV cache on the device at
 * once.
 */
public final class SessionActor {
  /** Steps a session asks the device for with its prompt, before it has timed one. */
  private static final int FIRST_AHEAD = 16;

  /** The fewest steps a session keeps asked ahead, however long they take. */
  private static final int MIN_AHEAD = 4;

  /** The most steps a session keeps asked ahead, however short they are. */
  private static final int MAX_AHEAD = 1024;

  /** What a session does. */
  public sealed interface Command
      permits Subscribe,
          Ack,
          Cancel,
          DeviceLost,
          WrappedDevice,
          WrappedPolicy,
          RequestTimeout,
          SubscribeTimeout {}

  /** Starts delivering events to the consumer (who acknowledges each with {@link Ack}). */
  public record Subscribe(ActorRef<TokenEvent> consumer) implements Command {}

  /** The consumer took the last event and wants the next. */
  public enum Ack implements Command {
    INSTANCE
  }

  /** Ends the request at once (the client went away); its KV cache is freed. */
  public enum Cancel implements Command {
    INSTANCE
  }

  /** The device stopped for good: the session ends with an error event. */
  public record DeviceLost(String reason) implements Command {}

  private record WrappedDevice(DeviceActor.Reply reply) implements Command {}

  private record WrappedPolicy(PolicyActor.PolicyCreated created) implements Command {}

  private enum RequestTimeout implements Command {
    INSTANCE
  }

  private enum SubscribeTimeout implements Command {
    INSTANCE
  }

  /** Everything a session needs besides its request. */
  record Wiring(
      ActorRef<DeviceActor.Command> device,
      ActorRef<PolicyActor.Command> policies,
      TextTokenizer tokenizer,
      int eosId,
      String drafter,
      SessionSettings settings,
      EngineMetrics metrics,
      RepeatedWarnings warnings) {}

  private final ActorContext<Command> context;
  private final String id;
  private final int[] prompt;
  private final CompletionRequest request;
  private final Wiring wiring;
  private final ActorRef<DeviceActor.Reply> deviceReplies;
  private final IncrementalDecoder decoder;
  private final StopStrings stops;
  private final StatsRecorder recorder;
  private final Outbox outbox = new Outbox();
  private final Provenance provenance = new Provenance();
  private final Behavior<Command> decoding;
  private final Behavior<Command> ending;
  private DraftPolicy policy;
  private int generated;
  private int ahead = FIRST_AHEAD; // steps to keep asked of the device (or waiting for demand)
  private int asked; // steps asked of the device and not answered yet
  private int unseen; // steps whose text waits for the consumer's demand
  private boolean released;
  private final long start = System.nanoTime();
  private long firstToken;
  private long lastEmitted;
  private EngineMetrics.SessionMetrics metrics;

  static Behavior<Command> create(
      String id, int[] prompt, CompletionRequest request, Wiring wiring) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new SessionActor(context, timers, id, prompt, request, wiring).starting()));
  }

  private SessionActor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String id,
      int[] prompt,
      CompletionRequest request,
      Wiring wiring) {
    this.context = context;
    this.id = id;
    this.prompt = prompt;
    this.request = request;
    this.wiring = wiring;
    this.deviceReplies = context.messageAdapter(DeviceActor.Reply.class, WrappedDevice::new);
    this.decoder = new IncrementalDecoder(wiring.tokenizer(), prompt);
    this.stops = new StopStrings(request.stop());
    this.recorder = new StatsRecorder(prompt.length);
    this.decoding =
        live(this::emitAndAskAhead)
            .onMessage(WrappedDevice.class, m -> guarded(() -> onReply(m)))
            .build();
    this.ending = endingBehaviour();
    timers.startSingleTimer(RequestTimeout.INSTANCE, wiring.settings().requestTimeout());
    timers.startSingleTimer(SubscribeTimeout.INSTANCE, wiring.settings().subscribeTimeout());
    ActorRef<PolicyActor.PolicyCreated> policyReplies =
        context.messageAdapter(PolicyActor.PolicyCreated.class, WrappedPolicy::new);
    wiring
        .policies()
        .tell(
            new PolicyActor.CreatePolicy(
                request.policy(), request.sampling().seed(), policyReplies));
  }

  /** Waiting for the policy: the consumer may subscribe meanwhile. */
  private Behavior<Command> starting() {
    return live(() -> {}).onMessage(WrappedPolicy.class, m -> guarded(() -> onPolicy(m))).build();
  }

  /**
   * What every state before the end handles alike: the consumer's subscription and acks (then
   * {@code afterDemand} runs), cancellation, a lost device, the timeouts and the stop.
   */
  private BehaviorBuilder<Command> live(Runnable afterDemand) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Subscribe.class,
            subscribe -> {
              outbox.subscribe(subscribe.consumer());
              afterDemand.run();
              return Behaviors.same();
            })
        .onMessageEquals(
            Ack.INSTANCE,
            () -> {
              outbox.demand();
              afterDemand.run();
              return Behaviors.same();
            })
        .onMessageEquals(Cancel.INSTANCE, () -> cancel(true))
        .onMessage(DeviceLost.class, lost -> fail(lost.reason()))
        .onMessageEquals(
            RequestTimeout.INSTANCE,
            () -> fail("the request timed out after " + wiring.settings().requestTimeout()))
        .onMessageEquals(SubscribeTimeout.INSTANCE, this::onSubscribeTimeout)
        .onSignal(PostStop.class, signal -> onPostStop());
  }

  /** Finished: the last events go out on demand, then the session stops; late replies are moot. */
  private Behavior<Command> endingBehaviour() {
    return Behaviors.receive(Command.class)
        .onMessage(
            Subscribe.class,
            subscribe -> {
              outbox.subscribe(subscribe.consumer());
              return drain();
            })
        .onMessageEquals(
            Ack.INSTANCE,
            () -> {
              outbox.demand();
              return drain();
            })
        .onMessageEquals(Cancel.INSTANCE, () -> cancel(false))
        .onMessage(DeviceLost.class, lost -> Behaviors.same())
        .onMessage(WrappedDevice.class, m -> Behaviors.same())
        .onMessage(WrappedPolicy.class, m -> Behaviors.same())
        .onMessageEquals(RequestTimeout.INSTANCE, Behaviors::same)
        .onMessageEquals(SubscribeTimeout.INSTANCE, this::onSubscribeTimeout)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  /** Sends what the consumer may take of the last events; stops once the terminal one is out. */
  private Behavior<Command> drain() {
    return outbox.deliver() ? Behaviors.stopped() : ending;
  }

  /** Runs a handler; a bug in it ends the request with an error event, never in silence. */
  private Behavior<Command> guarded(Supplier<Behavior<Command>> handler) {
    try {
      return handler.get();
    } catch (RuntimeException e) {
      context.getLog().error("session {} failed", id, e);
      return fail("internal error: " + e);
    }
  }

  private Behavior<Command> cancel(boolean counted) {
    context.getLog().debug("session {} cancelled after {} tokens", id, generated);
    if (counted) {
      wiring.metrics().finished(FinishReason.CANCELLED);
    }
    outbox.close();
    return Behaviors.stopped();
  }

  private Behavior<Command> onPolicy(WrappedPolicy wrapped) {
    if (wrapped.created().policy() == null) {
      return fail(wrapped.created().error());
    }
    policy = wrapped.created().policy();
    metrics = wiring.metrics().session(wiring.drafter(), policy.name());
    wiring
        .device()
        .tell(
            new DeviceActor.Prefill(
                id,
                prompt,
                request.maxTokens(),
                request.sampling(),
                request.topLogprobs(),
                policy,
                ahead,
                context.getSelf(),
                deviceReplies));
    asked = ahead;
    return decoding;
  }

  /** The device answered: the tokens it committed go out as text; more steps, or the end. */
  private Behavior<Command> onReply(WrappedDevice wrapped) {
    DeviceActor.Reply reply = wrapped.reply();
    if (reply instanceof DeviceActor.Prefilled p) {
      firstToken = System.nanoTime();
      lastEmitted = firstToken;
      metrics.firstToken(firstToken - start);
      return took(take(new int[] {p.firstToken()}, 0, p.logprobs()), 1);
    } else if (reply instanceof DeviceActor.Stepped s) {
      asked -= s.steps().size();
      ahead = aheadAfter(s.steps());
      for (SpeculativeStep.Stepped step : s.steps()) {
        recorder.record(step.outcome(), step.times());
        metrics.stepped(step.outcome());
        if (take(step.tokens(), step.outcome().accepted(), step.logprobs())) {
          return took(true, 0); // after a stop string the steps run beyond it are dropped
        }
      }
      return took(false, s.steps().size());
    } else if (reply instanceof DeviceActor.Exhausted) {
      end(FinishReason.MAX_TOKENS);
      return took(true, 0);
    }
    return fail(((DeviceActor.Failed) reply).message());
  }

  /**
   * After a reply's tokens were taken: the end goes out if the generation ended, else their text
   * (if the consumer waits) and the requests for the next steps.
   *
   * @param steps the steps whose text now waits for the consumer (a prefill counts as one)
   */
  private Behavior<Command> took(boolean ended, int steps) {
    if (ended) {
      release();
      return drain();
    }
    unseen += steps;
    emitAndAskAhead();
    return Behaviors.same();
  }

  /**
   * The steps to keep asked ahead after a reply: as many as take {@code read-ahead} at the mean
   * length of its steps (for a session of a batch, the batch's step), within {@link #MIN_AHEAD} and
   * {@link #MAX_AHEAD}.
   */
  private int aheadAfter(List<SpeculativeStep.Stepped> replied) {
    long nanos = 0;
    for (SpeculativeStep.Stepped step : replied) {
      StageTimes t = step.times();
      nanos += t.propose() + t.verify() + t.accept() + t.commit();
    }
    long mean = Math.max(1, nanos / replied.size());
    long fitting = wiring.settings().readAhead().toNanos() / mean;
    return (int) Math.min(MAX_AHEAD, Math.max(MIN_AHEAD, fitting));
  }

  /**
   * If the consumer waits, the text of every step it has not seen goes out as one event; then it
   * asks for steps until {@link #ahead} are asked or have text that has not gone out.
   */
  private void emitAndAskAhead() {
    if (outbox.wantsEvent() && provenance.hasText()) {
      outbox.add(provenance.event());
      outbox.deliver();
    }
    if (!provenance.hasText()) { // out, or held back (a stop string may be starting)
      unseen = 0;
    }
    int more = ahead - asked - unseen;
    if (more > 0) {
      wiring.device().tell(new DeviceActor.Step(id, more, deviceReplies));
      asked += more;
    }
  }

  /** The device frees the session's KV cache and drafting state (once). */
  private void release() {
    if (!released) {
      released = true;
      wiring.device().tell(new DeviceActor.Release(id));
    }
  }

  private Behavior<Command> onSubscribeTimeout() {
    if (outbox.subscribed()) {
      return Behaviors.same();
    }
    context.getLog().warn("session {}: nobody subscribed, stopping", id);
    wiring.metrics().ended("error");
    return Behaviors.stopped();
  }

  /**
   * Turns committed tokens into text, watching for EOS, the token limit and stop strings.
   *
   * @param accepted how many of the tokens were accepted from the draft (the rest is the target's)
   * @param logprobs the tokens' log-probabilities (empty unless the request asked for them)
   * @return whether the generation ended
   */
  private boolean take(int[] tokens, int accepted, List<TokenLogprobs> logprobs) {
    FinishReason reason = null;
    int taken = 0;
    for (int token : tokens) {
      if (token == wiring.eosId()) {
        reason = FinishReason.STOP_TOKEN;
        break;
      }
      generated++;
      String decoded = decoder.accept(token);
      provenance.decoded(token, taken < accepted ? taken + 1 : TokenEvent.TARGET, decoded);
      if (!logprobs.isEmpty()) {
        provenance.scored(logprobs.get(taken));
      }
      taken++;
      provenance.visible(stops.accept(decoded));
      if (stops.stopped()) { // the tokens after the one completing a stop string are dropped
        reason = FinishReason.STOP_STRING;
        break;
      }
      if (generated == request.maxTokens()) {
        reason = FinishReason.MAX_TOKENS;
        break;
      }
    }
    long now = System.nanoTime();
    metrics.emitted(taken, now - lastEmitted);
    lastEmitted = now;
    if (reason != null) {
      end(reason);
      return true;
    }
    return false;
  }

  /**
   * Ends the generation: flushes the decoder and the held-back text, queues what is left (with the
   * ids of tokens that made no text yet), then the finish.
   */
  private void end(FinishReason reason) {
    FinishReason ending = reason;
    if (reason != FinishReason.STOP_STRING) {
      String tail = decoder.flush();
      provenance.decodedTail(tail);
      provenance.visible(stops.accept(tail));
      ending = stops.stopped() ? FinishReason.STOP_STRING : reason;
      provenance.visible(stops.flush());
    }
    if (provenance.hasText() || provenance.hasTokens()) {
      outbox.add(provenance.event());
    }
    long end = System.nanoTime();
    Usage usage =
        new Usage(
            wiring.drafter(),
            policy.name(),
            recorder.stats(generated, firstToken - start, end - firstToken));
    outbox.add(new TokenEvent.Finished(ending, usage));
    wiring.metrics().finished(ending);
    context.getLog().debug("session {} finished ({}): {}", id, ending, usage.stats());
  }

  /** Ends the request with an error event alone (what was queued is dropped). */
  private Behavior<Command> fail(String message) {
    release();
    outbox.replaceWith(new TokenEvent.Failed(message));
    wiring.metrics().ended("error");
    long suppressed = wiring.warnings().admit("session failed");
    if (suppressed >= 0) {
      context
          .getLog()
          .warn("session {} failed: {} ({} like warnings suppressed)", id, message, suppressed);
    }
    return drain();
  }

  private Behavior<Command> onPostStop() {
    if (metrics != null) { // sessions that never got their policy are counted as requests only
      metrics.ended(System.nanoTime() - start);
    }
    release();
    outbox.abandon(); // never leave a subscriber waiting
    return Behaviors.same();
  }
}
