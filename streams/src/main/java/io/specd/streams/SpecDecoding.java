package io.specd.streams;

import akka.Done;
import akka.NotUsed;
import akka.stream.KillSwitches;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Source;
import akka.stream.typed.javadsl.ActorSource;
import io.specd.actors.CompletionRequest;
import io.specd.actors.Engine;
import io.specd.actors.PreparedRequest;
import io.specd.actors.SessionActor;
import io.specd.actors.TokenEvent;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * specd as Akka Streams stages. {@link #source} runs one request as a demand-driven source of
 * {@link TokenEvent}s: the session decodes only while downstream pulls (it runs at most two steps
 * ahead of demand, and an event carries every step's text since the last), and a stream that ends
 * early — cancelled downstream or through {@link Control} — cancels the session and frees its KV
 * cache at once. {@link #flow} maps requests to their events, one request after another.
 *
 * <pre>{@code
 * SpecDecoding.source(engine, CompletionRequest.greedy("Once upon a time", 64))
 *     .collect(...)               // TokenEvent.Tokens → text
 *     .runForeach(System.out::print, engine.system());
 * }</pre>
 */
public final class SpecDecoding {
  private SpecDecoding() {}

  /** Controls a running source. */
  public interface Control {
    /** Ends the stream now (it completes) and cancels the session. */
    void cancel();

    /** Ends the stream now with {@code cause} (it fails) and cancels the session. */
    void fail(Throwable cause);

    /** Completes when the stream has ended, for whatever reason. */
    CompletionStage<Done> done();
  }

  /**
   * The events of one request: {@link TokenEvent.Tokens} elements, then one {@link
   * TokenEvent.Finished} or {@link TokenEvent.Failed}, then completion. A refused request (the
   * engine is overloaded) fails the stream with {@code EngineOverloaded}; a bad request fails it
   * with {@link IllegalArgumentException}. A stream cancelled while its request waits for a session
   * takes the request out of the admission queue.
   */
  public static Source<TokenEvent, Control> source(Engine engine, CompletionRequest request) {
    return source(engine, () -> engine.prepare(request));
  }

  /** The events of a request prepared (checked and tokenized) beforehand, as {@link #source}. */
  public static Source<TokenEvent, Control> source(Engine engine, PreparedRequest request) {
    return source(engine, () -> request);
  }

  private static Source<TokenEvent, Control> source(
      Engine engine, Supplier<PreparedRequest> request) {
    Source<TokenEvent, NotUsed> events =
        Source.fromMaterializer((materializer, attributes) -> abandonable(engine, request))
            .mapMaterializedValue(notUsed -> NotUsed.getInstance());
    return events
        .takeWhile(event -> event instanceof TokenEvent.Tokens, true)
        .viaMat(KillSwitches.single(), Keep.right())
        .watchTermination(SpecDecoding::control);
  }

  /** Each request's events, in order, one request at a time. */
  public static Flow<CompletionRequest, TokenEvent, NotUsed> flow(Engine engine) {
    return Flow.<CompletionRequest>create().flatMapConcat(request -> source(engine, request));
  }

  /**
   * One run of a request; when the stream stops before the session's last event (downstream
   * cancelled, or {@link Control#cancel}), the request leaves the admission queue if it still waits
   * there, else its session is cancelled and its KV cache freed.
   */
  private static Source<TokenEvent, NotUsed> abandonable(
      Engine engine, Supplier<PreparedRequest> request) {
    CompletableFuture<Done> abandoned = new CompletableFuture<>();
    AtomicBoolean ended = new AtomicBoolean();
    return Source.lazyCompletionStageSource(
            () -> engine.open(request.get(), abandoned).thenApply(SpecDecoding::sessionEvents))
        .map(
            event -> {
              ended.compareAndSet(false, !(event instanceof TokenEvent.Tokens));
              return event;
            })
        .watchTermination(
            (opened, done) -> {
              done.whenComplete(
                  (ok, error) -> {
                    if (!ended.get()) {
                      abandoned.complete(Done.getInstance());
                    }
                  });
              return NotUsed.getInstance();
            });
  }

  /** A session's events, delivered as the stream demands them. */
  private static Source<TokenEvent, NotUsed> sessionEvents(Engine.Session session) {
    return ActorSource.<TokenEvent, SessionActor.Command>actorRefWithBackpressure(
            session.ref(),
            SessionActor.Ack.INSTANCE,
            event -> Optional.empty(), // the stream ends through takeWhile, after the last event
            event -> Optional.empty())
        .mapMaterializedValue(
            consumer -> {
              session.subscribe(consumer);
              return NotUsed.getInstance();
            });
  }

  private static Control control(UniqueKillSwitch killSwitch, CompletionStage<Done> done) {
    return new Control() {
      @Override
      public void cancel() {
        killSwitch.shutdown();
      }

      @Override
      public void fail(Throwable cause) {
        killSwitch.abort(cause);
      }

      @Override
      public CompletionStage<Done> done() {
        return done;
      }
    };
  }
}
