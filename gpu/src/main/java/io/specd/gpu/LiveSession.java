package io.specd.gpu;

import akka.actor.typed.ActorRef;
import io.specd.kernels.spec.SessionState;
import io.specd.kernels.spec.SpeculativeStep;
import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.Plan;
import java.util.ArrayList;
import java.util.List;

/**
 * What the device keeps of a live session besides its {@link SessionState}: its prompt and how much
 * of it is prefilled (a long prompt is prefilled in parts, and the session steps only after the
 * last), its policy (planned and rewarded on the device, between the steps it runs), where its
 * results go, the steps it has asked for and not received yet, the results it has not been sent
 * yet, and whether its generation has ended (EOS, or {@code max_tokens} as its state counts them),
 * after which it never steps again. Not thread-safe: the device actor's own.
 */
final class LiveSession implements AutoCloseable {
  final String id;
  final SessionState state;
  private final ActorRef<DeviceActor.Reply> replyTo;
  private final DraftPolicy policy;
  private final String drafter;
  private final double temperature;
  private final int eosId;
  private final int[] prompt;
  private int prefilledTo; // prompt positions whose prefill has been handed out
  private int wanted;
  private boolean ended;
  private long lastStep; // the device's step count when this session last stepped
  private final List<SpeculativeStep.Stepped> unsent = new ArrayList<>();
  private long firstUnsent; // when the oldest unsent result was made (System.nanoTime)

  /**
   * @param state the session's device state, opened for {@code prefill}
   * @param drafter the drafter's name, for the policy's context
   * @param eosId the model's end-of-sequence token
   */
  LiveSession(SessionState state, DeviceActor.Prefill prefill, String drafter, int eosId) {
    this.id = prefill.sessionId();
    this.state = state;
    this.replyTo = prefill.replyTo();
    this.policy = prefill.policy();
    this.drafter = drafter;
    this.temperature = prefill.sampling().temperature();
    this.eosId = eosId;
    this.prompt = prefill.prompt();
    this.wanted = prefill.steps();
  }

  /** Whether part of its prompt still waits for its prefill. */
  boolean prefilling() {
    return prefilledTo < prompt.length;
  }

  /** The next part of its prompt to prefill, at most {@code tokens} long (at least 1). */
  SpeculativeStep.PromptPart nextPart(int tokens) {
    int from = prefilledTo;
    prefilledTo = (int) Math.min(prompt.length, (long) from + tokens);
    return new SpeculativeStep.PromptPart(prompt, from, prefilledTo);
  }

  /** The session asked for {@code steps} more. */
  void want(int steps) {
    wanted += steps;
  }

  /** Whether it waits for a step (one asked for, and its prompt prefilled). */
  boolean wantsStep() {
    return wanted > 0 && !prefilling();
  }

  /** Whether its generation ended (EOS or {@code max_tokens}), as the session itself sees. */
  boolean ended() {
    return ended;
  }

  /** Whether it can step again: its generation goes on and its cache has room. */
  boolean canStep() {
    return !ended && !state.full();
  }

  /** It cannot step again ({@link DeviceActor.Exhausted} told it so): it wants nothing more. */
  void refuse() {
    wanted = 0;
  }

  long lastStep() {
    return lastStep;
  }

  /** Its policy's plan for the step about to run with {@code batchSize} sessions. */
  Plan plan(int batchSize) {
    return policy.plan(
        new DraftContext(drafter, temperature, state.generated(), batchSize, state.freeDraft()));
  }

  /** The prefill committed {@code root}. */
  void prefilled(int root) {
    ended = root == eosId || state.atMaxTokens();
  }

  /**
   * Step {@code step} of the device committed {@code stepped} at {@code now}; the policy learns
   * from it, and the result waits to be sent ({@link #sendIfDue}).
   */
  void stepped(SpeculativeStep.Stepped stepped, long step, long now) {
    if (unsent.isEmpty()) {
      firstUnsent = now;
    }
    unsent.add(stepped);
    wanted--;
    lastStep = step;
    policy.reward(stepped.outcome());
    for (int token : stepped.tokens()) {
      ended |= token == eosId;
    }
    ended |= state.atMaxTokens();
    if (ended) {
      wanted = 0; // the session ends by the same rule and waits for none of the steps asked ahead
    }
  }

  /**
   * Sends the results not sent yet, in one {@link DeviceActor.Stepped}, once the session should
   * have them: it has no more steps asked than results waiting (so it asks for more while the
   * device runs the rest, and the device does not run dry waiting for its request), or the oldest
   * has waited {@code holdNanos}.
   */
  void sendIfDue(long now, long holdNanos) {
    if (!unsent.isEmpty() && (unsent.size() >= wanted || now - firstUnsent >= holdNanos)) {
      send();
    }
  }

  /** Sends {@code reply} after the results not sent yet. */
  void tell(DeviceActor.Reply reply) {
    send();
    replyTo.tell(reply);
  }

  private void send() {
    if (!unsent.isEmpty()) {
      replyTo.tell(new DeviceActor.Stepped(id, List.copyOf(unsent)));
      unsent.clear();
    }
  }

  @Override
  public void close() {
    state.close();
  }
}
