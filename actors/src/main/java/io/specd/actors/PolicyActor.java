package io.specd.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import io.specd.policies.PolicyFactory;
import io.specd.policies.spec.DraftPolicy;

/**
 * Hands each session its draft policy. The factory it owns holds what is shared across requests
 * (the bandit's priors, per drafter and temperature band); the policy a session receives holds that
 * request's posterior and is used by the session alone, which plans and rewards it every step
 * without a message round trip.
 */
public final class PolicyActor extends AbstractBehavior<PolicyActor.Command> {

  /** What the policy actor does. */
  public sealed interface Command permits CreatePolicy {}

  /**
   * A new policy for one request.
   *
   * @param name the policy's name, or null for the engine's default
   * @param seed seeds the policy's own random choices
   */
  public record CreatePolicy(String name, long seed, ActorRef<PolicyCreated> replyTo)
      implements Command {}

  /** The policy, or the reason there is none (an unknown name). */
  public record PolicyCreated(DraftPolicy policy, String error) {}

  private final PolicyFactory factory;
  private final String defaultPolicy;

  public static Behavior<Command> create(PolicyFactory factory, String defaultPolicy) {
    return Behaviors.setup(context -> new PolicyActor(context, factory, defaultPolicy));
  }

  private PolicyActor(ActorContext<Command> context, PolicyFactory factory, String defaultPolicy) {
    super(context);
    this.factory = factory;
    this.defaultPolicy = defaultPolicy;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(CreatePolicy.class, this::onCreatePolicy).build();
  }

  private Behavior<Command> onCreatePolicy(CreatePolicy request) {
    String name = request.name() != null ? request.name() : defaultPolicy;
    try {
      request.replyTo().tell(new PolicyCreated(factory.create(name, request.seed()), null));
    } catch (RuntimeException e) { // an unknown name, or a bug: the session reports it
      request.replyTo().tell(new PolicyCreated(null, e.getMessage()));
    }
    return this;
  }
}
