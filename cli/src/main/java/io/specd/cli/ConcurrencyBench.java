package io.specd.cli;

import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.specd.actors.CompletionRequest;
import io.specd.actors.Engine;
import io.specd.actors.EngineLoader;
import io.specd.actors.TokenEvent;
import io.specd.kernels.llama.LlamaModel;
import io.specd.streams.SpecDecoding;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code specd bench --concurrency}: streams many requests at once through the engine (the device
 * actor, sessions and demand-driven sources, as the server runs them) and measures the aggregate
 * tokens/s and the time between tokens a client sees, with verification batching on and off.
 */
final class ConcurrencyBench {
  private final Supplier<LlamaModel> models;
  private final String drafter;
  private final String policy;
  private final int maxTokens;
  private final List<String> prompts;
  private final int rounds;
  private final double warmUpSeconds;

  /**
   * @param models loads a fresh model (each engine owns and closes its own)
   * @param drafter the drafter, or null for the default
   * @param policy every request's policy, or null for the drafter's default
   * @param warmUpSeconds the least time the engines warm up for, together
   */
  ConcurrencyBench(
      Supplier<LlamaModel> models,
      String drafter,
      String policy,
      int maxTokens,
      List<String> prompts,
      int rounds,
      double warmUpSeconds) {
    this.models = models;
    this.drafter = drafter;
    this.policy = policy;
    this.maxTokens = maxTokens;
    this.prompts = prompts;
    this.rounds = rounds;
    this.warmUpSeconds = warmUpSeconds;
  }

  /**
   * One measured load.
   *
   * @param batching whether the device batched verification across sessions
   * @param concurrency streams at once
   * @param requests requests completed
   * @param tokens tokens generated
   * @param tokensPerSecond aggregate tokens/s
   * @param p50Millis median time between tokens a client sees (after the first)
   * @param p99Millis 99th percentile of the time between tokens
   * @param firstTokenP50Millis median time from a request's start to its first token (admission,
   *     prefill)
   * @param firstTokenP99Millis 99th percentile of the time to the first token
   * @param drafter the engine's drafter
   * @param policy the requests' policy
   */
  record Load(
      boolean batching,
      int concurrency,
      int requests,
      long tokens,
      double tokensPerSecond,
      double p50Millis,
      double p99Millis,
      double firstTokenP50Millis,
      double firstTokenP99Millis,
      String drafter,
      String policy) {}

  /**
   * Every concurrency level, batching on then off. Both engines run side by side, warmed up first
   * (for at least {@code warmUpSeconds}), and the loads are measured interleaved over the rounds so
   * a slow spell of the machine hits all of them; each load keeps its best round.
   */
  List<Load> measure(List<Integer> levels) {
    int most = levels.stream().mapToInt(Integer::intValue).max().orElse(1);
    boolean[] modes = {true, false};
    Load[][] best = new Load[modes.length][levels.size()];
    // each engine loads its own model, but they share the cores: the second starts once the first
    // has answered a request, so its device's warm-up (at its start) does not slow the first
    // engine's first requests, whose step times the goodput planner would learn from
    try (Engine batched = started(true, most);
        Engine unbatched = started(false, most)) {
      Engine[] engines = {batched, unbatched};
      // warm-up: every batch size at least once, then on until the JIT has compiled the
      // per-request and per-token paths (both engines run the same code)
      long until = System.nanoTime() + (long) (warmUpSeconds * 1e9);
      do {
        for (int m = 0; m < modes.length; m++) {
          run(engines[m], modes[m], most);
          run(engines[m], modes[m], 1);
        }
      } while (System.nanoTime() < until);
      for (int round = 0; round < rounds; round++) {
        for (int l = 0; l < levels.size(); l++) {
          for (int m = 0; m < modes.length; m++) {
            Load load = run(engines[m], modes[m], levels.get(l));
            if (best[m][l] == null || load.tokensPerSecond() > best[m][l].tokensPerSecond()) {
              best[m][l] = load;
            }
          }
        }
      }
    }
    List<Load> loads = new ArrayList<>();
    for (Load[] mode : best) {
      loads.addAll(List.of(mode));
    }
    return loads;
  }

  /** An engine whose device has warmed up: it has answered a first request. */
  private Engine started(boolean batching, int sessions) {
    Engine engine = start(batching, sessions);
    try {
      run(engine, batching, 1);
    } catch (RuntimeException e) {
      engine.close();
      throw e;
    }
    return engine;
  }

  private Engine start(boolean batching, int sessions) {
    Config config =
        ConfigFactory.parseString(
                "specd.gpu.max-batch = "
                    + (batching ? sessions : 1)
                    + "\nspecd.gpu.kv-slots = "
                    + sessions
                    + "\nspecd.session.max-sessions = "
                    + sessions
                    + "\nspecd.gpu.context-length = "
                    + (maxTokens + 256)
                    + "\nakka.loglevel = WARNING")
            .withFallback(ConfigFactory.load());
    return EngineLoader.start(config, models.get(), drafter, null, policy, false);
  }

  /** Streams {@code 2 × level} requests, {@code level} at a time; greedy, one prompt each. */
  private Load run(Engine engine, boolean batching, int level) {
    List<CompletionRequest> requests = new ArrayList<>();
    for (int i = 0; i < 2 * level; i++) {
      requests.add(CompletionRequest.greedy(prompts.get(i % prompts.size()), maxTokens));
    }
    long start = System.nanoTime();
    List<Stream> streams =
        Source.from(requests)
            .mapAsyncUnordered(
                level,
                request ->
                    SpecDecoding.source(engine, request)
                        .runWith(Sink.fold(new Stream(), Stream::take), engine.system()))
            .runWith(Sink.seq(), engine.system())
            .toCompletableFuture()
            .join();
    double seconds = (System.nanoTime() - start) / 1e9;
    long tokens = streams.stream().mapToLong(s -> s.tokens).sum();
    double[] gaps = gaps(streams.stream().map(s -> s.gaps).toList());
    double[] firsts = streams.stream().mapToDouble(s -> s.firstToken).sorted().toArray();
    return new Load(
        batching,
        level,
        streams.size(),
        tokens,
        tokens / seconds,
        percentile(gaps, 0.50) / 1e6,
        percentile(gaps, 0.99) / 1e6,
        percentile(firsts, 0.50) / 1e6,
        percentile(firsts, 0.99) / 1e6,
        engine.drafterName(),
        engine.defaultPolicy());
  }

  private static double[] gaps(Collection<List<Long>> perStream) {
    return perStream.stream()
        .flatMap(List::stream)
        .mapToDouble(Long::doubleValue)
        .sorted()
        .toArray();
  }

  private static double percentile(double[] sorted, double p) {
    return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, p * sorted.length)];
  }

  /**
   * What a client sees of one stream: the time to its first tokens, then its tokens and the time
   * between them. An event that brings k tokens after a gap g counts k gaps of g/k (tokens arrive
   * together, so each waited its share); the wait for the first event (admission and prefill) is
   * the time to the first token, not a gap.
   */
  private static final class Stream {
    final List<Long> gaps = new ArrayList<>();
    long last = System.nanoTime();
    long firstToken;
    long tokens;

    Stream take(TokenEvent event) {
      if (event instanceof TokenEvent.Tokens t) {
        long now = System.nanoTime();
        int k = t.tokenIds().length;
        if (tokens == 0) {
          firstToken = now - last;
        } else {
          for (int i = 0; i < k; i++) {
            gaps.add((now - last) / k);
          }
        }
        tokens += k;
        last = now;
      } else if (event instanceof TokenEvent.Failed f) {
        throw new IllegalStateException("a benchmark request failed: " + f.message());
      }
      return this;
    }
  }
}
