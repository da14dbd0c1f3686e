package io.specd.kernels.spec;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.heads.BundledHeads;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import io.specd.policies.spec.StopRule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.random.RandomGenerator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Sessions stepped together — ragged prompts, ragged trees, one target forward per step, sessions
 * joining late and leaving early — produce exactly what each produces alone (greedy), on every
 * backend.
 */
class BatchedStepTest {
  private static final String[] PROMPTS = {
    "Once upon a time", "The cat", "Lily and Tom went to the park. They saw a big", "One day"
  };
  private static final int[] MAX_TOKENS = {60, 24, 48, 36};
  private static final Map<String, KvCachePool> POOLS = new HashMap<>();
  private static final Map<String, List<int[]>> EXPECTED = new HashMap<>();
  private static TestModels.PerBackend models;
  private static LlamaModel model;
  private static KvCachePool pool;
  private static List<int[]> expected;

  @BeforeAll
  static void load() {
    models = new TestModels.PerBackend(TestModels.stories260K());
  }

  /** Runs the test on a backend: its model, pool and each session decoded alone. */
  private static void use(String backend) {
    model = models.get(backend);
    pool = POOLS.computeIfAbsent(backend, b -> model.newCachePool(PROMPTS.length, 256));
    expected =
        EXPECTED.computeIfAbsent(
            backend,
            b -> {
              AutoregressiveDecoder plain = new AutoregressiveDecoder(model, pool);
              List<int[]> alone = new ArrayList<>();
              for (int i = 0; i < PROMPTS.length; i++) {
                alone.add(plain.generate(request(i), TokenSink.IGNORE).tokens());
              }
              return alone;
            });
  }

  @AfterAll
  static void close() {
    POOLS.values().forEach(KvCachePool::close);
    models.close();
  }

  static Stream<Arguments> drafters() {
    return TestModels.backends()
        .flatMap(b -> TestModels.drafters().map(kind -> Arguments.of(b, kind)));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("drafters")
  void shouldDecodeEachSessionOfABatchAsIfAlone(String backend, String kind) {
    use(backend);
    try (Drafter drafter = TestModels.drafter(kind, model, PROMPTS.length, pool.capacity())) {
      assertBatchMatchesAlone(drafter, Plan.tree(4, 12, 4, StopRule.NONE));
    }
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("drafters")
  void shouldDecodeEachSessionAsIfAloneWhenOnlySomeOfTheBatchDraft(String backend, String kind) {
    use(backend);
    try (Drafter drafter = TestModels.drafter(kind, model, PROMPTS.length, pool.capacity())) {
      assertBatchMatchesAlone(
          drafter,
          session -> session % 2 == 0 ? Plan.NO_SPECULATION : Plan.tree(2, 4, 2, StopRule.NONE),
          -1);
    }
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("drafters")
  void sampledSessionsShouldDrawInABatchWhatEachDrawsAlone(String backend, String kind) {
    use(backend);
    IntFunction<Plan> planOf =
        session -> session % 2 == 0 ? Plan.NO_SPECULATION : Plan.tree(3, 3, 1, StopRule.NONE);
    SamplingParams sampling = SamplingParams.ofTemperature(1.0, 7);
    try (Drafter drafter = TestModels.drafter(kind, model, PROMPTS.length, pool.capacity())) {
      List<int[]> alone = decode(drafter, planOf, sampling, -1, false).tokens();
      List<int[]> together = decode(drafter, planOf, sampling, -1, true).tokens();
      for (int i = 0; i < PROMPTS.length; i++) {
        assertThat(together.get(i)).as("session %d", i).containsExactly(alone.get(i));
      }
    }
  }

  /**
   * Prompts prefilled in parts of a few tokens, several sessions' parts in one forward (the
   * device's chunked prefill), leave the cache and every drafter's state as a whole prompt's
   * prefill does: the same tokens, accepted in the same steps (the output alone would not tell: a
   * drafter's state changes only what is accepted).
   */
  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("drafters")
  void promptsPrefilledInPartsShouldDecodeAsIfPrefilledWhole(String backend, String kind) {
    use(backend);
    IntFunction<Plan> planOf = session -> Plan.tree(4, 12, 4, StopRule.NONE);
    try (Drafter drafter = TestModels.drafter(kind, model, PROMPTS.length, pool.capacity())) {
      Decoded whole = decode(drafter, planOf, SamplingParams.GREEDY, -1, true);
      Decoded parts = decode(drafter, planOf, SamplingParams.GREEDY, -1, true, 3);
      for (int i = 0; i < PROMPTS.length; i++) {
        assertThat(parts.tokens().get(i))
            .as("session %d with %s", i, drafter.name())
            .containsExactly(Arrays.copyOf(expected.get(i), MAX_TOKENS[i]));
        assertThat(parts.stepSizes().get(i))
            .as("tokens per step of session %d with %s", i, drafter.name())
            .isEqualTo(whole.stepSizes().get(i));
      }
    }
  }

  @ParameterizedTest
  @MethodSource("io.specd.kernels.TestModels#backends")
  void shouldDecodePlainlyInABatch(String backend) {
    use(backend);
    try (Drafter drafter = new PlainDrafter(model.config())) {
      assertBatchMatchesAlone(drafter, Plan.NO_SPECULATION);
    }
  }

  /**
   * A session whose drafting state fails in a step (here: its proposal throws) ends alone: its
   * result is {@link SpeculativeStep.Broken}, and the other sessions of the batch step on and still
   * decode as if alone.
   */
  @ParameterizedTest
  @MethodSource("io.specd.kernels.TestModels#backends")
  void aSessionFailingInItsStepShouldEndAloneWhileTheOthersStepOn(String backend) {
    use(backend);
    Path heads = BundledHeads.find(DrafterKind.CLOVER, model).orElseThrow();
    try (Drafter drafter =
        new BreakingDrafter(
            DrafterKind.CLOVER.load(model, heads, PROMPTS.length, pool.capacity()), 1)) {
      assertBatchMatchesAlone(drafter, session -> Plan.tree(4, 12, 4, StopRule.NONE), 1);
    }
  }

  /** A drafter whose {@code broken}-th opened session throws at its second proposal. */
  private static final class BreakingDrafter implements Drafter {
    private final Drafter real;
    private final int broken;
    private int opened;

    BreakingDrafter(Drafter real, int broken) {
      this.real = real;
      this.broken = broken;
    }

    @Override
    public String name() {
      return real.name();
    }

    @Override
    public DraftSession open(KvCache cache) {
      DraftSession session = real.open(cache);
      return opened++ != broken
          ? session
          : new DraftSession() {
            private int proposals;

            @Override
            public void prefilled(int[] prompt, int from, int to, ForwardResult result, int next) {
              session.prefilled(prompt, from, to, result, next);
            }

            @Override
            public Proposal propose(
                int root, Plan plan, SamplingParams sampling, RandomGenerator random) {
              if (++proposals == 2) {
                throw new IllegalStateException("a broken drafting state");
              }
              return session.propose(root, plan, sampling, random);
            }

            @Override
            public void accepted(
                Proposal proposal, Acceptance acceptance, ForwardResult verification) {
              session.accepted(proposal, acceptance, verification);
            }

            @Override
            public void close() {
              session.close();
            }
          };
    }

    @Override
    public ForwardOptions prefillOptions() {
      return real.prefillOptions();
    }

    @Override
    public ForwardOptions verifyOptions() {
      return real.verifyOptions();
    }

    @Override
    public void close() {
      real.close();
    }
  }

  private static void assertBatchMatchesAlone(Drafter drafter, Plan plan) {
    assertBatchMatchesAlone(drafter, session -> plan, -1);
  }

  /**
   * Steps sessions in batches to their token limits and checks each decoded as if alone.
   *
   * @param planOf each session's plan, by its index
   * @param broken the session expected to fail in a step (its tokens so far still match), or -1
   */
  private static void assertBatchMatchesAlone(
      Drafter drafter, IntFunction<Plan> planOf, int broken) {
    Decoded decoded = decode(drafter, planOf, SamplingParams.GREEDY, broken, true);
    for (int i = 0; i < PROMPTS.length; i++) {
      int[] got = decoded.tokens().get(i);
      int[] want = expected.get(i);
      assertThat(Arrays.copyOf(got, Math.min(got.length, want.length)))
          .as("session %d with %s", i, drafter.name())
          .containsExactly(Arrays.copyOf(want, Math.min(got.length, want.length)));
      if (i == broken) {
        assertThat(decoded.brokeOff()[i]).as("session %d ended when it broke", i).isTrue();
        continue;
      }
      assertThat(got.length).isGreaterThanOrEqualTo(Math.min(want.length, MAX_TOKENS[i]));
    }
  }

  /**
   * Each session's tokens, and whether it ended when its step broke.
   *
   * @param tokens by session index
   * @param brokeOff by session index
   * @param stepSizes by session index, the tokens each of its steps committed
   */
  private record Decoded(List<int[]> tokens, boolean[] brokeOff, List<List<Integer>> stepSizes) {}

  /**
   * Steps sessions to their token limits, in batches or each alone.
   *
   * @param planOf each session's plan, by its index
   * @param sampling every session's sampling (each session draws from its own seeded generator)
   * @param broken the session expected to fail in a step, or -1
   * @param together whether the live sessions step in one batch, else one after another
   */
  private static Decoded decode(
      Drafter drafter,
      IntFunction<Plan> planOf,
      SamplingParams sampling,
      int broken,
      boolean together) {
    return decode(drafter, planOf, sampling, broken, together, Integer.MAX_VALUE);
  }

  /**
   * {@link #decode} with prompts prefilled in parts of at most {@code partTokens} tokens, the
   * sessions' parts together.
   */
  private static Decoded decode(
      Drafter drafter,
      IntFunction<Plan> planOf,
      SamplingParams sampling,
      int broken,
      boolean together,
      int partTokens) {
    int n = PROMPTS.length;
    SessionState[] states = new SessionState[n];
    boolean[] brokeOff = new boolean[n];
    List<List<Integer>> outputs = new ArrayList<>();
    List<List<Integer>> stepSizes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      outputs.add(new ArrayList<>());
      stepSizes.add(new ArrayList<>());
    }
    try {
      // the first half prefill together; the rest join one step later
      prefill(drafter, sampling, states, outputs, 0, n / 2, partTokens);
      boolean first = true;
      while (true) {
        List<Integer> live = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          if (states[i] != null && outputs.get(i).size() < MAX_TOKENS[i]) {
            live.add(i);
          }
        }
        if (live.isEmpty()) {
          break;
        }
        List<List<Integer>> batches =
            together ? List.of(live) : live.stream().map(List::of).toList();
        for (List<Integer> batchOf : batches) {
          step(drafter, planOf, states, outputs, stepSizes, batchOf, broken, brokeOff);
        }
        if (first) {
          prefill(drafter, sampling, states, outputs, n / 2, n, partTokens);
          first = false;
        }
      }
    } finally {
      for (SessionState state : states) {
        if (state != null) {
          state.close();
        }
      }
    }
    return new Decoded(
        outputs.stream().map(o -> o.stream().mapToInt(Integer::intValue).toArray()).toList(),
        brokeOff,
        stepSizes);
  }

  /** One step of the sessions {@code live} in one batch. */
  private static void step(
      Drafter drafter,
      IntFunction<Plan> planOf,
      SessionState[] states,
      List<List<Integer>> outputs,
      List<List<Integer>> stepSizes,
      List<Integer> live,
      int broken,
      boolean[] brokeOff) {
    List<SessionState> batch = live.stream().map(i -> states[i]).toList();
    List<SpeculativeStep.Result> results =
        SpeculativeStep.step(
            model,
            drafter,
            batch,
            live.stream().map(planOf::apply).toList(),
            AcceptanceMode.LOSSLESS);
    for (int j = 0; j < live.size(); j++) {
      int i = live.get(j);
      if (results.get(j) instanceof SpeculativeStep.Broken failed) {
        assertThat(i).as("the session that broke").isEqualTo(broken);
        assertThat(failed.cause()).hasMessage("a broken drafting state");
        states[i].close();
        states[i] = null;
        brokeOff[i] = true;
        continue;
      }
      SpeculativeStep.Stepped stepped = results.get(j).orThrow();
      assertThat(stepped.outcome().batchSize()).isEqualTo(live.size());
      for (int token : stepped.tokens()) {
        outputs.get(i).add(token);
      }
      stepSizes.get(i).add(stepped.tokens().length);
    }
  }

  private static void prefill(
      Drafter drafter,
      SamplingParams sampling,
      SessionState[] states,
      List<List<Integer>> outputs,
      int from,
      int to,
      int partTokens) {
    List<SessionState> opened = new ArrayList<>();
    List<int[]> prompts = new ArrayList<>();
    for (int i = from; i < to; i++) {
      states[i] =
          SessionState.open(
              pool,
              drafter,
              new SamplingParams(
                  sampling.temperature(), sampling.topK(), sampling.topP(), sampling.seed() + i),
              MAX_TOKENS[i]);
      opened.add(states[i]);
      prompts.add(request(i).prompt());
    }
    int[] done = new int[to - from]; // each prompt's positions prefilled
    while (true) {
      List<SessionState> prefilling = new ArrayList<>();
      List<SpeculativeStep.PromptPart> parts = new ArrayList<>();
      List<Integer> sessions = new ArrayList<>();
      for (int j = 0; j < to - from; j++) {
        int[] prompt = prompts.get(j);
        if (done[j] < prompt.length) {
          int end = (int) Math.min(prompt.length, (long) done[j] + partTokens);
          prefilling.add(opened.get(j));
          parts.add(new SpeculativeStep.PromptPart(prompt, done[j], end));
          sessions.add(j);
          done[j] = end;
        }
      }
      if (parts.isEmpty()) {
        return;
      }
      int[] roots = SpeculativeStep.prefillParts(model, drafter, prefilling, parts);
      for (int k = 0; k < roots.length; k++) {
        assertThat(roots[k] >= 0)
            .as("a root after the last part only")
            .isEqualTo(parts.get(k).last());
        if (roots[k] >= 0) {
          outputs.get(from + sessions.get(k)).add(roots[k]);
        }
      }
    }
  }

  private static GenerationRequest request(int i) {
    return new GenerationRequest(
        model.tokenizer().encodePrompt(PROMPTS[i]), MAX_TOKENS[i], SamplingParams.GREEDY);
  }
}
