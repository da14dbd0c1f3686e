package io.specd.actors;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.pattern.StatusReply;
import com.typesafe.config.Config;
import io.specd.gpu.DeviceActor;
import io.specd.gpu.DeviceDiscovery;
import io.specd.gpu.DeviceSettings;
import io.specd.gpu.RestartSettings;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.policies.PolicyFactory;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;

/**
 * The public engine API: start it with a model and a drafter, submit requests, receive each one's
 * stream of {@link TokenEvent}s, cancel. It runs in its own actor system (the HTTP server and Akka
 * Streams stages run in it too) and owns the model and the drafter, which {@link #close} frees
 * after the actors stop. Thread-safe.
 *
 * <pre>{@code
 * try (Engine engine = Engine.start(config, model, drafter, policies, "static-3", LOSSLESS)) {
 *   Engine.Session session = engine.open(CompletionRequest.greedy("Once upon a time", 64))
 *       .toCompletableFuture().join();
 *   session.subscribe(consumer); // an ActorRef<TokenEvent> that answers each event with ack()
 * }
 * }</pre>
 */
public final class Engine implements AutoCloseable {
  private final ActorSystem<EngineGuardian.Command> system;
  private final LlamaModel model;
  private final Drafter drafter;
  private final PolicyFactory policies;
  private final EngineMetrics metrics;
  private final EngineHealth health;
  private final DeviceSettings deviceSettings;
  private final SessionSettings sessionSettings;
  private final String defaultPolicy;
  private final AtomicLong tickets = new AtomicLong();

  private Engine(
      ActorSystem<EngineGuardian.Command> system,
      LlamaModel model,
      Drafter drafter,
      PolicyFactory policies,
      EngineMetrics metrics,
      EngineHealth health,
      DeviceSettings deviceSettings,
      SessionSettings sessionSettings,
      String defaultPolicy) {
    this.system = system;
    this.model = model;
    this.drafter = drafter;
    this.policies = policies;
    this.metrics = metrics;
    this.health = health;
    this.deviceSettings = deviceSettings;
    this.sessionSettings = sessionSettings;
    this.defaultPolicy = defaultPolicy;
  }

  /**
   * Starts an engine.
   *
   * @param config settings ({@code specd.gpu}, {@code specd.session}, Akka's)
   * @param model the target; the engine closes it
   * @param drafter the drafter every request uses ({@code PlainDrafter} for none); the engine
   *     closes it
   * @param policies builds each request's draft policy
   * @param defaultPolicy the policy of requests that name none
   * @param mode lossless, or Medusa's typical acceptance when asked for explicitly
   */
  public static Engine start(
      Config config,
      LlamaModel model,
      Drafter drafter,
      PolicyFactory policies,
      String defaultPolicy,
      AcceptanceMode mode) {
    policies.check(defaultPolicy);
    DeviceSettings configured = DeviceSettings.fromConfig(config);
    int capacity = DeviceActor.contextLength(model, configured);
    DeviceSettings device =
        configured.fittedTo(
            DeviceDiscovery.freeBytes(model.backend()),
            KvCachePool.bytesPerSlot(model.config(), capacity));
    SessionSettings sessions = SessionSettings.fromConfig(config);
    if (device.kvSlots() < configured.kvSlots()) {
      LoggerFactory.getLogger(Engine.class)
          .warn(
              "the device's free memory holds {} KV caches of {} tokens, not {}: serving {}"
                  + " sessions at once",
              device.kvSlots(),
              capacity,
              configured.kvSlots(),
              Math.min(sessions.maxSessions(), device.kvSlots()));
      sessions = sessions.withMaxSessions(Math.min(sessions.maxSessions(), device.kvSlots()));
    }
    if (sessions.maxSessions() > device.kvSlots()) {
      throw new IllegalArgumentException(
          "specd.session.max-sessions ("
              + sessions.maxSessions()
              + ") exceeds the device's KV caches, specd.gpu.kv-slots ("
              + device.kvSlots()
              + ")");
    }
    EngineMetrics metrics = new EngineMetrics();
    EngineHealth health = new EngineHealth();
    EngineGuardian.Parts parts =
        new EngineGuardian.Parts(
            sessions,
            DeviceActor.create(model, drafter, mode, device, metrics),
            RestartSettings.fromConfig(config),
            health,
            PolicyActor.create(policies, defaultPolicy),
            model.tokenizer(),
            model.config().eosId(),
            drafter.name(),
            metrics);
    ActorSystem<EngineGuardian.Command> system =
        ActorSystem.create(EngineGuardian.create(parts), "specd", config);
    return new Engine(
        system, model, drafter, policies, metrics, health, device, sessions, defaultPolicy);
  }

  /** A running request: subscribe to its events, acknowledge each, or cancel it. */
  public record Session(ActorRef<SessionActor.Command> ref) {

    /** Starts delivery to the consumer, who answers each event with {@link #ack()}. */
    public void subscribe(ActorRef<TokenEvent> consumer) {
      ref.tell(new SessionActor.Subscribe(consumer));
    }

    /** The consumer is ready for the next event. */
    public void ack() {
      ref.tell(SessionActor.Ack.INSTANCE);
    }

    /** Ends the request now and frees its KV cache. */
    public void cancel() {
      ref.tell(SessionActor.Cancel.INSTANCE);
    }
  }

  /**
   * Submits a request. Bad requests fail at once; a request that must wait for a free session
   * completes when it gets one.
   *
   * @return the session, or a stage failed with {@link EngineOverloaded} when the admission queue
   *     is full, or with {@link EngineUnavailable} when the engine cannot serve
   * @throws IllegalArgumentException naming the problem: an unknown policy, or a prompt and {@code
   *     max_tokens} beyond the context
   */
  public CompletionStage<Session> open(CompletionRequest request) {
    return open(prepare(request), new CompletableFuture<>());
  }

  /**
   * Checks a request and tokenizes its prompt (which takes about a second per megabyte of prompt).
   *
   * @throws IllegalArgumentException naming the problem: an unknown policy, or a prompt and {@code
   *     max_tokens} beyond the context
   */
  public PreparedRequest prepare(CompletionRequest request) {
    return prepare(request, request.promptIds(model.tokenizer()));
  }

  /**
   * Checks a request whose prompt the caller has tokenized already.
   *
   * @param promptTokens the request's prompt ids, as {@link CompletionRequest#promptIds} gives them
   * @throws IllegalArgumentException naming the problem
   */
  public PreparedRequest prepare(CompletionRequest request, int[] promptTokens) {
    if (request.policy() != null) {
      checkPolicy(request.policy());
    }
    checkFits(promptTokens.length, request.maxTokens());
    return new PreparedRequest(request, promptTokens);
  }

  /**
   * Submits a prepared request on behalf of a caller who may go away: when {@code abandoned}
   * completes, a request still waiting for a session leaves the admission queue (its stage fails
   * with {@link Withdrawn}), and a session already started is cancelled.
   *
   * @see #open(CompletionRequest)
   */
  public CompletionStage<Session> open(PreparedRequest prepared, CompletionStage<?> abandoned) {
    if (health.problem().isPresent()) {
      return CompletableFuture.failedFuture(new EngineUnavailable(health.problem().get()));
    }
    CompletionRequest request = prepared.request();
    int[] prompt = prepared.prompt();
    long ticket = tickets.incrementAndGet();
    CompletionStage<Session> opened =
        AskPattern.<EngineGuardian.Command, StatusReply<ActorRef<SessionActor.Command>>>ask(
                system,
                replyTo -> new EngineGuardian.StartSession(request, prompt, ticket, replyTo),
                sessionSettings.requestTimeout(),
                system.scheduler())
            .thenApply(reply -> new Session(reply.getValue()));
    abandoned.whenComplete(
        (gone, error) -> {
          system.tell(new EngineGuardian.Withdraw(ticket));
          opened.thenAccept(Session::cancel);
        });
    return opened;
  }

  /**
   * Checks a request's policy name: known, and {@code static-N} within the drafter's depth.
   *
   * @throws IllegalArgumentException naming the problem and the allowed values
   */
  public void checkPolicy(String name) {
    policies.check(name);
  }

  /**
   * Checks that a prompt of {@code promptTokens} and {@code maxTokens} fit the context.
   *
   * @throws IllegalArgumentException naming both numbers and the limit
   */
  public void checkFits(int promptTokens, int maxTokens) {
    int context = contextLength();
    long total = (long) promptTokens + maxTokens; // client numbers: an int sum could wrap
    if (total > context) {
      throw new IllegalArgumentException(
          "the prompt has "
              + promptTokens
              + " tokens and max_tokens is "
              + maxTokens
              + ": together "
              + total
              + ", beyond the context length of "
              + context);
    }
  }

  /** Tokens a request may hold, prompt and completion together. */
  public int contextLength() {
    return DeviceActor.contextLength(model, deviceSettings);
  }

  /** The engine's actor system (run HTTP routes and streams in it). */
  public ActorSystem<?> system() {
    return system;
  }

  /** The target model (its tokenizer, config and metadata; the device owns its tensor work). */
  public LlamaModel model() {
    return model;
  }

  /** The drafter's name ({@code none} for plain decoding). */
  public String drafterName() {
    return drafter.name();
  }

  /** The policy of requests that name none. */
  public String defaultPolicy() {
    return defaultPolicy;
  }

  public EngineMetrics metrics() {
    return metrics;
  }

  /** Whether the engine can serve, and if not, why. */
  public EngineHealth health() {
    return health;
  }

  /** Test hook: the device's next batch fails (needs {@code specd.gpu.fault-injection = on}). */
  public void injectDeviceFault(String message) {
    system.tell(new EngineGuardian.InjectDeviceFault(message));
  }

  /**
   * Stops the actors, then frees the drafter and the model. The device actor stops only between
   * batches, so once the actors are gone no forward pass runs; if they are not gone within 30 s the
   * model is left to the JVM's exit rather than freed under a forward pass.
   */
  @Override
  public void close() {
    if (stop()) {
      model.close();
    }
  }

  /**
   * Stops the actors, then frees the drafter, leaving the model open: for a caller that runs
   * engines on one model one after another (each engine's device the model's only user while it
   * works) and closes the model itself.
   *
   * @return whether the actors stopped (within 30 s), so that no forward pass runs any more
   */
  public boolean stop() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException | TimeoutException e) {
      LoggerFactory.getLogger(Engine.class)
          .error("the engine's actors did not stop within 30 s; the model is not freed", e);
      return false;
    }
    drafter.close();
    return true;
  }

  /** How long a caller may wait for a session and its first event. */
  public Duration requestTimeout() {
    return sessionSettings.requestTimeout();
  }
}
