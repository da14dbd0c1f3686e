package io.specd.streams.http;

import akka.NotUsed;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.sse.ServerSentEvent;
import akka.japi.pf.PFBuilder;
import akka.stream.KillSwitches;
import akka.stream.SharedKillSwitch;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.actors.PreparedRequest;
import io.specd.actors.TokenEvent;
import io.specd.actors.Usage;
import io.specd.kernels.sample.TokenLogprobs;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Answers an OpenAI generation request: runs each of its choices as one generation, all at once,
 * and answers with the whole completion once every choice has ended, or — when the request asked to
 * stream — with {@link EventStream server-sent events}: for each choice its opening (chat: the
 * role; completions with {@code echo}: the prompt), text chunks as they are decoded (with {@code
 * speculative} provenance and, when asked, {@code logprobs}), a finish chunk; then, when asked, a
 * usage chunk, and {@code [DONE]}. Choices interleave, each chunk naming its {@code index}.
 *
 * <p>The response starts once every choice has its first event, so that a refused request (429,
 * 400) still gets its status; the choices that did start are then cancelled, as are the others of a
 * whole answer. A choice that fails mid-stream ends the stream with an error event (and cancels the
 * others); one that fails before a whole response is written makes it a 500. Thread-safe.
 */
final class Completions {
  private final ActorSystem<?> system;
  private final String modelId;
  private final TextTokenizer tokenizer;
  private final Duration keepAlive;

  /**
   * @param system runs the streams
   * @param modelId the model the responses name
   * @param tokenizer writes the tokens of log-probabilities
   * @param keepAlive the heartbeat interval of a silent stream
   */
  Completions(ActorSystem<?> system, String modelId, TextTokenizer tokenizer, Duration keepAlive) {
    this.system = system;
    this.modelId = modelId;
    this.tokenizer = tokenizer;
    this.keepAlive = keepAlive;
  }

  /**
   * The response to a request.
   *
   * @param events runs one generation: its events
   */
  CompletionStage<HttpResponse> answer(
      ApiRequest request, Function<PreparedRequest, Source<TokenEvent, NotUsed>> events) {
    OpenAiResponses responses = new OpenAiResponses(request.kind(), modelId);
    return request.stream()
        ? streamed(request, responses, events)
        : whole(request, responses, events);
  }

  private CompletionStage<HttpResponse> whole(
      ApiRequest request,
      OpenAiResponses responses,
      Function<PreparedRequest, Source<TokenEvent, NotUsed>> events) {
    List<CompletableFuture<List<TokenEvent>>> runs = new ArrayList<>();
    SharedKillSwitch others = KillSwitches.shared("choices");
    for (ApiRequest.Choice choice : request.choices()) {
      runs.add(
          events
              .apply(choice.prepared())
              .via(others.flow())
              .runWith(Sink.seq(), system)
              .toCompletableFuture()
              .whenComplete(
                  (all, refused) -> {
                    if (refused != null) { // the answer is an error: stop the other choices
                      others.shutdown();
                    }
                  }));
    }
    return CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new))
        .thenApply(
            done -> {
              List<OpenAiResponses.Outcome> outcomes = new ArrayList<>();
              for (ApiRequest.Choice choice : request.choices()) {
                List<TokenEvent> all = runs.get(choice.index()).join();
                TokenEvent last = all.isEmpty() ? null : all.get(all.size() - 1);
                if (last instanceof TokenEvent.Failed failed) {
                  return Json.response(
                      StatusCodes.INTERNAL_SERVER_ERROR, OpenAiResponses.failed(failed));
                }
                if (!(last instanceof TokenEvent.Finished)) {
                  throw new IllegalStateException("the generation ended without a finish event");
                }
                outcomes.add(outcome(request.kind(), choice, all));
              }
              List<Usage> usages =
                  outcomes.stream().map(outcome -> outcome.finished().usage()).toList();
              return Json.response(
                  StatusCodes.OK,
                  responses.completion(outcomes, OpenAiResponses.usage(usages, request.n())));
            });
  }

  /** A choice's text and log-probabilities, from its events (the last one its finish). */
  private OpenAiResponses.Outcome outcome(
      ApiRequest.Kind kind, ApiRequest.Choice choice, List<TokenEvent> events) {
    StringBuilder text = new StringBuilder(choice.echo());
    List<TokenLogprobs> scored = new ArrayList<>();
    for (TokenEvent event : events) {
      if (event instanceof TokenEvent.Tokens tokens) {
        text.append(tokens.text());
        scored.addAll(tokens.logprobs());
      }
    }
    JsonNode logprobs =
        choice.logprobs()
            ? new LogprobsWriter(kind, tokenizer, choice.echo().length()).write(scored)
            : null;
    return new OpenAiResponses.Outcome(
        choice.index(),
        text.toString(),
        logprobs,
        (TokenEvent.Finished) events.get(events.size() - 1));
  }

  private CompletionStage<HttpResponse> streamed(
      ApiRequest request,
      OpenAiResponses responses,
      Function<PreparedRequest, Source<TokenEvent, NotUsed>> events) {
    List<CompletableFuture<Source<Indexed, NotUsed>>> starts = new ArrayList<>();
    for (ApiRequest.Choice choice : request.choices()) {
      starts.add(
          events
              .apply(choice.prepared())
              .map(event -> new Indexed(choice.index(), event))
              .prefixAndTail(1)
              .runWith(Sink.head(), system)
              .thenApply(start -> Source.from(start.first()).concat(start.second()))
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new))
        .whenComplete((done, refused) -> cancelStarted(refused, starts))
        .thenApply(
            done -> {
              Source<Indexed, NotUsed> merged =
                  Source.from(starts).flatMapMerge(starts.size(), CompletableFuture::join);
              return EventStream.response(sse(request, responses, merged), keepAlive);
            });
  }

  /** When a choice was refused the answer is an error: the choices that started are cancelled. */
  private void cancelStarted(
      Throwable refused, List<CompletableFuture<Source<Indexed, NotUsed>>> starts) {
    if (refused == null) {
      return;
    }
    for (CompletableFuture<Source<Indexed, NotUsed>> start : starts) {
      if (!start.isCompletedExceptionally()) {
        start.join().runWith(Sink.cancelled(), system);
      }
    }
  }

  private Source<ServerSentEvent, NotUsed> sse(
      ApiRequest request, OpenAiResponses responses, Source<Indexed, NotUsed> events) {
    List<ServerSentEvent> openings = new ArrayList<>();
    for (ApiRequest.Choice choice : request.choices()) {
      ObjectNode opening =
          request.kind() == ApiRequest.Kind.CHAT
              ? responses.opening(choice.index())
              : choice.echo().isEmpty()
                  ? null
                  : responses.text(choice.index(), choice.echo(), null);
      if (opening != null) {
        openings.add(EventStream.data(opening));
      }
    }
    Source<ServerSentEvent, NotUsed> chunks =
        events
            .statefulMapConcat(
                () -> {
                  StreamedChoices choices = new StreamedChoices(request, responses);
                  return choices::chunks;
                })
            .takeWhile(event -> event != EventStream.DONE, true)
            .recoverWithRetries(
                1,
                new PFBuilder<Throwable, Source<ServerSentEvent, NotUsed>>()
                    .matchAny(
                        e ->
                            Source.from(
                                List.of(
                                    EventStream.data(OpenAiResponses.error(Errors.toApiError(e))),
                                    EventStream.DONE)))
                    .build());
    return Source.from(openings).concat(chunks);
  }

  /** An event of the choice at {@code index}. */
  private record Indexed(int index, TokenEvent event) {}

  /** The chunks of a stream's events, counting the choices that have ended. Not thread-safe. */
  private final class StreamedChoices {
    private final ApiRequest request;
    private final OpenAiResponses responses;
    private final LogprobsWriter[] logprobs;
    private final Usage[] usages;
    private int finished;

    StreamedChoices(ApiRequest request, OpenAiResponses responses) {
      this.request = request;
      this.responses = responses;
      int count = request.choices().size();
      this.logprobs = new LogprobsWriter[count];
      this.usages = new Usage[count];
      for (ApiRequest.Choice choice : request.choices()) {
        logprobs[choice.index()] =
            choice.logprobs()
                ? new LogprobsWriter(request.kind(), tokenizer, choice.echo().length())
                : null;
      }
    }

    List<ServerSentEvent> chunks(Indexed indexed) {
      int index = indexed.index();
      TokenEvent event = indexed.event();
      if (event instanceof TokenEvent.Tokens tokens) {
        LogprobsWriter writer = logprobs[index];
        boolean scored = writer != null && tokens.tokenIds().length > 0;
        if (tokens.text().isEmpty() && !scored) {
          return List.of();
        }
        ObjectNode chunk =
            responses.text(index, tokens.text(), scored ? writer.write(tokens.logprobs()) : null);
        return List.of(EventStream.data(TokenProvenance.attach(chunk, tokens)));
      }
      if (event instanceof TokenEvent.Finished end) {
        usages[index] = end.usage();
        finished++;
        List<ServerSentEvent> chunks = new ArrayList<>();
        chunks.add(EventStream.data(responses.finish(index, end)));
        if (finished == usages.length) {
          if (request.includeUsage()) {
            chunks.add(
                EventStream.data(
                    responses.usageChunk(
                        OpenAiResponses.usage(Arrays.asList(usages), request.n()))));
          }
          chunks.add(EventStream.DONE);
        }
        return chunks;
      }
      return List.of(
          EventStream.data(OpenAiResponses.failed((TokenEvent.Failed) event)), EventStream.DONE);
    }
  }
}
