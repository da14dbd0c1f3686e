package io.specd.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.ChildFailed;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.pattern.StatusReply;
import io.specd.gpu.DeviceActor;
import io.specd.gpu.DeviceSettings;
import io.specd.gpu.RestartSettings;
import io.specd.kernels.tokenizer.TextTokenizer;
import io.specd.policies.spec.FinishReason;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The engine's root: spawns the device actor (on its own dispatcher, restarted with a growing pause
 * after a failed batch — the failed batch's sessions end with an error event) and the policy actor,
 * and admits requests: up to {@code max-sessions} decode at once, up to {@code admission-queue}
 * more wait for one, and beyond that requests are refused with {@link EngineOverloaded}. It watches
 * the device: once it stays down ({@code specd.gpu.restart.max-restarts}), every session ends with
 * an error event, the engine reports itself unhealthy and requests are refused with {@link
 * EngineUnavailable}.
 */
public final class EngineGuardian extends AbstractBehavior<EngineGuardian.Command> {
  /** What the guardian does. */
  public sealed interface Command
      permits StartSession, Withdraw, InjectDeviceFault, SessionStopped {}

  /**
   * Starts a session when one is free; answers with the session, or an {@link EngineOverloaded}
   * error.
   *
   * @param prompt the request's prompt tokens
   * @param ticket names the request for {@link Withdraw}
   */
  public record StartSession(
      CompletionRequest request,
      int[] prompt,
      long ticket,
      ActorRef<StatusReply<ActorRef<SessionActor.Command>>> replyTo)
      implements Command {}

  /** The caller of a request went away: if it still waits for a session, it leaves the queue. */
  public record Withdraw(long ticket) implements Command {}

  /** Test hook: makes the device's next batch fail (with {@code specd.gpu.fault-injection}). */
  public record InjectDeviceFault(String message) implements Command {}

  private record SessionStopped(String id) implements Command {}

  /** What the engine is made of. */
  record Parts(
      SessionSettings sessions,
      Behavior<DeviceActor.Command> deviceBehavior,
      RestartSettings restarts,
      EngineHealth health,
      Behavior<PolicyActor.Command> policyBehavior,
      TextTokenizer tokenizer,
      int eosId,
      String drafter,
      EngineMetrics metrics) {}

  private final SessionSettings settings;
  private final SessionActor.Wiring wiring;
  private final ActorRef<DeviceActor.Command> device;
  private final EngineHealth health;
  private final ArrayDeque<StartSession> waiting = new ArrayDeque<>();
  private final Map<String, ActorRef<SessionActor.Command>> active = new HashMap<>();
  private long nextId;

  static Behavior<Command> create(Parts parts) {
    return Behaviors.setup(context -> new EngineGuardian(context, parts));
  }

  private EngineGuardian(ActorContext<Command> context, Parts parts) {
    super(context);
    this.settings = parts.sessions();
    this.health = parts.health();
    RestartSettings restarts = parts.restarts();
    this.device =
        context.spawn(
            Behaviors.supervise(parts.deviceBehavior())
                .onFailure(
                    Exception.class,
                    SupervisorStrategy.restartWithBackoff(
                            restarts.minBackoff(), restarts.maxBackoff(), 0.2)
                        .withMaxRestarts(restarts.maxRestarts())),
            "device",
            DispatcherSelector.fromConfig(DeviceSettings.DISPATCHER));
    context.watch(device);
    ActorRef<PolicyActor.Command> policies =
        context.spawn(
            Behaviors.supervise(parts.policyBehavior())
                .onFailure(Exception.class, SupervisorStrategy.restart()),
            "policy");
    this.wiring =
        new SessionActor.Wiring(
            device,
            policies,
            parts.tokenizer(),
            parts.eosId(),
            parts.drafter(),
            parts.sessions(),
            parts.metrics(),
            RepeatedWarnings.standard());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(StartSession.class, this::onStartSession)
        .onMessage(Withdraw.class, this::onWithdraw)
        .onMessage(SessionStopped.class, this::onSessionStopped)
        .onMessage(InjectDeviceFault.class, this::onInjectDeviceFault)
        .onSignal(ChildFailed.class, this::onDeviceStopped)
        .build();
  }

  private Behavior<Command> onStartSession(StartSession start) {
    if (health.problem().isPresent()) {
      start.replyTo().tell(StatusReply.error(new EngineUnavailable(health.problem().get())));
      return this;
    }
    if (active.size() < settings.maxSessions()) {
      spawn(start);
    } else if (waiting.size() < settings.admissionQueue()) {
      waiting.add(start);
    } else {
      wiring.metrics().ended("rejected");
      start.replyTo().tell(StatusReply.error(new EngineOverloaded(active.size(), waiting.size())));
    }
    wiring.metrics().waiting(waiting.size());
    return this;
  }

  private void spawn(StartSession start) {
    String id = "s" + nextId++;
    ActorRef<SessionActor.Command> session =
        getContext()
            .spawn(
                SessionActor.create(id, start.prompt(), start.request(), wiring), "session-" + id);
    getContext().watchWith(session, new SessionStopped(id));
    active.put(id, session);
    start.replyTo().tell(StatusReply.success(session));
  }

  private Behavior<Command> onSessionStopped(SessionStopped stopped) {
    active.remove(stopped.id());
    if (!waiting.isEmpty()) {
      spawn(waiting.poll());
    }
    wiring.metrics().waiting(waiting.size());
    return this;
  }

  /** The device gave up restarting: nothing can be served any more, and everyone is told so. */
  private Behavior<Command> onDeviceStopped(ChildFailed failed) {
    if (!failed.getRef().equals(device)) {
      return this;
    }
    String reason =
        "the device stopped after repeated failures (" + failed.getCause().getMessage() + ")";
    getContext().getLog().error("engine unavailable: {}", reason);
    health.failed(reason);
    active.values().forEach(session -> session.tell(new SessionActor.DeviceLost(reason)));
    for (StartSession start : waiting) {
      start.replyTo().tell(StatusReply.error(new EngineUnavailable(reason)));
    }
    waiting.clear();
    wiring.metrics().waiting(0);
    return this;
  }

  private Behavior<Command> onWithdraw(Withdraw withdraw) {
    for (StartSession start : waiting) {
      if (start.ticket() == withdraw.ticket()) {
        waiting.remove(start);
        wiring.metrics().finished(FinishReason.CANCELLED);
        start.replyTo().tell(StatusReply.error(new Withdrawn()));
        wiring.metrics().waiting(waiting.size());
        break;
      }
    }
    return this;
  }

  private Behavior<Command> onInjectDeviceFault(InjectDeviceFault fault) {
    device.tell(new DeviceActor.InjectFault(fault.message()));
    return this;
  }
}
