package io.specd.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.specd.gpu.DeviceActor;
import io.specd.kernels.sample.TokenLogprobs;
import io.specd.kernels.tokenizer.IncrementalDecoder;
import io.specd.kernels.tokenizer.TextTokenizer;
import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.FinishReason;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StatsRecorder;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Supplier;

/**
 * One request, from prefill to its last event: per step it plans (its own policy), asks the device
 * to propose, verify and commit, then emits the committed tokens as text and rewards the policy,
 * until EOS, {@code max_tokens}, a stop string, cancellation, a device failure or the request
 * timeout.
 *
 * <p>Demand-driven: the consumer acknowledges each event with {@link Ack}; at most one event waits
 * for its ack while one step runs on the device, so a slow consumer pauses the session (nothing
 * buffers more than a step's tokens). On stop it releases its KV cache on the device at once.
 */
public final class SessionActor extends AbstractBehavior<SessionActor.Command> {

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

  private final String id;
  private final int[] prompt;
  private final CompletionRequest request;
  private final Wiring wiring;
  private final ActorRef<DeviceActor.Reply> deviceReplies;
  private final IncrementalDecoder decoder;
  private final StopStrings stops;
  private final StatsRecorder recorder;
  private final ArrayDeque<TokenEvent> pending = new ArrayDeque<>();
  private final Provenance provenance = new Provenance();
  private ActorRef<TokenEvent> consumer;
  private boolean consumerReady;
  private boolean awaitingDevice;
  private boolean finished;
  private boolean terminalSent;
  private boolean cancelled;
  private DraftPolicy policy;
  private int generated;
  private int batchOccupancy = 1;
  private final long start = System.nanoTime();
  private long firstToken;
  private long lastEmitted;
  private EngineMetrics.SessionMetrics metrics;

  static Behavior<Command> create(
      String id, int[] prompt, CompletionRequest request, Wiring wiring) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> new SessionActor(context, timers, id, prompt, request, wiring)));
  }

  private SessionActor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String id,
      int[] prompt,
      CompletionRequest request,
      Wiring wiring) {
    super(context);
    this.id = id;
    this.prompt = prompt;
    this.request = request;
    this.wiring = wiring;
    this.deviceReplies = context.messageAdapter(DeviceActor.Reply.class, WrappedDevice::new);
    this.decoder = new IncrementalDecoder(wiring.tokenizer(), prompt);
    this.stops = new StopStrings(request.stop());
    this.recorder = new StatsRecorder(prompt.length);
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

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessageEquals(Ack.INSTANCE, this::onAck)
        .onMessageEquals(Cancel.INSTANCE, this::onCancel)
        .onMessage(DeviceLost.class, lost -> fail(lost.reason()))
        .onMessage(WrappedPolicy.class, m -> guarded(() -> onPolicy(m)))
        .onMessage(WrappedDevice.class, m -> guarded(() -> onDevice(m)))
        .onMessageEquals(RequestTimeout.INSTANCE, this::onRequestTimeout)
        .onMessageEquals(SubscribeTimeout.INSTANCE, this::onSubscribeTimeout)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  /** Runs a handler; a bug in it ends the request with an error event, never in silence. */
  private Behavior<Command> guarded(Supplier<Behavior<Command>> handler) {
    try {
      return handler.get();
    } catch (RuntimeException e) {
      getContext().getLog().error("session {} failed", id, e);
      return fail("internal error: " + e);
    }
  }

  private Behavior<Command> onSubscribe(Subscribe subscribe) {
    consumer = subscribe.consumer();
    consumerReady = true;
    return advance();
  }

  private Behavior<Command> onAck() {
    consumerReady = true;
    return advance();
  }

  private Behavior<Command> onCancel() {
    getContext().getLog().debug("session {} cancelled after {} tokens", id, generated);
    if (!finished) {
      wiring.metrics().finished(FinishReason.CANCELLED);
    }
    cancelled = true;
    return Behaviors.stopped();
  }

  private Behavior<Command> onPolicy(WrappedPolicy wrapped) {
    if (finished) { // timed out before the policy came
      return advance();
    }
    if (wrapped.created().policy() == null) {
      return fail(wrapped.created().error());
    }
    policy = wrapped.created().policy();
    metrics = wiring.metrics().session(wiring.drafter(), policy.name());
    awaitingDevice = true;
    wiring
        .device()
        .tell(
            new DeviceActor.Prefill(
                id,
                prompt,
                request.maxTokens(),
                request.sampling(),
                request.topLogprobs(),
                getContext().getSelf(),
                deviceReplies));
    return this;
  }

  private Behavior<Command> onDevice(WrappedDevice wrapped) {
    awaitingDevice = false;
    if (finished) {
      return advance();
    }
    DeviceActor.Reply reply = wrapped.reply();
    if (reply instanceof DeviceActor.Prefilled p) {
      firstToken = System.nanoTime();
      lastEmitted = firstToken;
      metrics.firstToken(firstToken - start);
      take(new int[] {p.firstToken()}, 0, p.logprobs());
    } else if (reply instanceof DeviceActor.Verified v) {
      recorder.record(v.stepped().outcome(), v.stepped().times());
      policy.reward(v.stepped().outcome());
      metrics.stepped(v.stepped().outcome());
      batchOccupancy = v.stepped().outcome().batchSize();
      take(v.stepped().tokens(), v.stepped().outcome().accepted(), v.stepped().logprobs());
    } else if (reply instanceof DeviceActor.Exhausted) {
      end(FinishReason.MAX_TOKENS);
    } else if (reply instanceof DeviceActor.Failed f) {
      return fail(f.message());
    }
    return advance();
  }

  private Behavior<Command> onRequestTimeout() {
    return fail("the request timed out after " + wiring.settings().requestTimeout());
  }

  private Behavior<Command> onSubscribeTimeout() {
    if (consumer != null) {
      return this;
    }
    getContext().getLog().warn("session {}: nobody subscribed, stopping", id);
    wiring.metrics().ended("error");
    finished = true;
    return Behaviors.stopped();
  }

  /**
   * Turns committed tokens into text, watching for EOS, the token limit and stop strings.
   *
   * @param accepted how many of the tokens were accepted from the draft (the rest is the target's)
   * @param logprobs the tokens' log-probabilities (empty unless the request asked for them)
   */
  private void take(int[] tokens, int accepted, List<TokenLogprobs> logprobs) {
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
    } else if (provenance.hasText()) {
      pending.add(provenance.event());
    }
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
      pending.add(provenance.event());
    }
    finish(ending);
  }

  private void finish(FinishReason reason) {
    finished = true;
    long end = System.nanoTime();
    Usage usage =
        new Usage(
            wiring.drafter(),
            policy.name(),
            recorder.stats(generated, firstToken - start, end - firstToken));
    pending.add(new TokenEvent.Finished(reason, usage));
    wiring.metrics().finished(reason);
    getContext().getLog().debug("session {} finished ({}): {}", id, reason, usage.stats());
  }

  private Behavior<Command> fail(String message) {
    if (!finished) {
      finished = true;
      pending.clear();
      pending.add(new TokenEvent.Failed(message));
      wiring.metrics().ended("error");
      long suppressed = wiring.warnings().admit("session failed");
      if (suppressed >= 0) {
        getContext()
            .getLog()
            .warn("session {} failed: {} ({} like warnings suppressed)", id, message, suppressed);
      }
    }
    return advance();
  }

  /** Delivers what the consumer may take, starts the next step when allowed, stops when done. */
  private Behavior<Command> advance() {
    if (consumer != null && consumerReady && !pending.isEmpty()) {
      TokenEvent event = pending.poll();
      consumer.tell(event);
      consumerReady = false;
      terminalSent = !(event instanceof TokenEvent.Tokens);
    }
    if (terminalSent) {
      return Behaviors.stopped();
    }
    if (!finished && !awaitingDevice && policy != null && pending.isEmpty()) {
      Plan plan =
          policy.plan(
              new DraftContext(
                  wiring.drafter(), request.sampling().temperature(), generated, batchOccupancy));
      awaitingDevice = true;
      wiring.device().tell(new DeviceActor.Verify(id, plan, deviceReplies));
    }
    return this;
  }

  private Behavior<Command> onPostStop() {
    if (metrics != null) { // sessions that never got their policy are counted as requests only
      metrics.ended(System.nanoTime() - start);
    }
    wiring.device().tell(new DeviceActor.Release(id));
    if (consumer != null && !terminalSent && !cancelled) { // never leave a subscriber waiting
      consumer.tell(new TokenEvent.Failed("the session stopped"));
    }
    return this;
  }
}
