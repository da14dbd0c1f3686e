package io.specd.kernels.llama;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Tree verification against the plain causal forward it must reproduce, on every backend. */
class TreeForwardTest {
  private static final float TOLERANCE = 1e-4f;
  private static TestModels.PerBackend models;
  private static final Map<String, KvCachePool> POOLS = new HashMap<>();

  // A tree of 8 nodes over a prompt: node 0 is the root; parents precede children.
  private static final int[] TOKENS = {403, 407, 261, 378, 319, 270, 292, 381};
  private static final int[] PARENTS = {-1, 0, 0, 1, 1, 2, 3, 5};

  private LlamaModel model;
  private KvCachePool pool;

  @BeforeAll
  static void load() {
    models = new TestModels.PerBackend(TestModels.stories260K());
  }

  @AfterAll
  static void close() {
    POOLS.values().forEach(KvCachePool::close);
    models.close();
  }

  static Stream<String> backends() {
    return TestModels.backends();
  }

  private void on(String backend) {
    model = models.get(backend);
    pool = POOLS.computeIfAbsent(backend, b -> model.newCachePool(3, 128));
  }

  @ParameterizedTest
  @MethodSource("backends")
  void treeLogitsShouldEqualDecodingEachPathTokenByToken(String backend) {
    on(backend);
    int[] prompt = model.tokenizer().encodePrompt("Lily and Tom");
    KvCache tree = pool.allocate();
    try {
      prefill(tree, prompt);
      float[][] treeLogits = forwardTree(tree);
      for (int leaf : leaves()) {
        List<Integer> path = pathTo(leaf);
        KvCache chain = pool.allocate();
        try {
          prefill(chain, prompt);
          for (int node : path) {
            float[] logits = decodeOne(chain, TOKENS[node]);
            assertClose(logits, treeLogits[node], "node " + node + " on the path to leaf " + leaf);
          }
        } finally {
          chain.release();
        }
      }
    } finally {
      tree.release();
    }
  }

  @ParameterizedTest
  @MethodSource("backends")
  void committingAPathShouldLeaveTheCacheOfDecodingThatPathAlone(String backend) {
    on(backend);
    int[] prompt = model.tokenizer().encodePrompt("Lily and Tom");
    int[] path = pathTo(7).stream().mapToInt(Integer::intValue).toArray(); // 0 -> 2 -> 5 -> 7
    KvCache tree = pool.allocate();
    KvCache chain = pool.allocate();
    try {
      prefill(tree, prompt);
      forwardTree(tree);
      tree.commit(path);

      prefill(chain, prompt);
      for (int node : path) {
        decodeOne(chain, TOKENS[node]);
      }
      assertThat(tree.length()).isEqualTo(chain.length());
      float[][] fromTree = tree.snapshot();
      float[][] fromChain = chain.snapshot();
      assertClose(fromTree[0], fromChain[0], "keys");
      assertClose(fromTree[1], fromChain[1], "values");
      // and the next token sees the same context
      assertClose(decodeOne(tree, 300), decodeOne(chain, 300), "next token after commit");
    } finally {
      tree.release();
      chain.release();
    }
  }

  @ParameterizedTest
  @MethodSource("backends")
  void aBatchShouldGiveEachSequenceItsOwnResult(String backend) {
    on(backend);
    int[] promptA = model.tokenizer().encodePrompt("Once upon a time");
    int[] promptB = model.tokenizer().encodePrompt("The cat sat on the mat and");
    KvCache a = pool.allocate();
    KvCache b = pool.allocate();
    KvCache alone = pool.allocate();
    int vocab = model.config().vocabularySize();
    try {
      // ragged prefill of two prompts in one forward
      ForwardResult both =
          model.forward(
              List.of(SequenceInput.causal(a, promptA), SequenceInput.causal(b, promptB)),
              null,
              ForwardOptions.lastLogits(model.config()));
      float[] batchedB = row(both, both.row(1, 0));
      a.commitNext(promptA.length);
      b.commitNext(promptB.length);
      ForwardResult single =
          model.forward(
              SequenceInput.causal(alone, promptB), ForwardOptions.lastLogits(model.config()));
      assertClose(batchedB, row(single, 0), "batched B");
      alone.commitNext(promptB.length);
      // then a tree for one sequence and a single token for the other, in one forward
      ForwardResult mixed =
          model.forward(
              List.of(
                  new SequenceInput(
                      a, a.length(), TOKENS, positions(a.length()), AncestorMask.tree(PARENTS)),
                  SequenceInput.causal(b, new int[] {300})),
              null,
              ForwardOptions.allLogits(model.config()));
      float[] mixedB = row(mixed, mixed.row(1, 0));
      assertThat(mixedB).hasSize(vocab);
      assertClose(mixedB, decodeOne(alone, 300), "mixed batch");
    } finally {
      a.release();
      b.release();
      alone.release();
    }
  }

  @ParameterizedTest
  @MethodSource("backends")
  void aSplitForwardShouldEqualTheFullForward(String backend) {
    on(backend);
    int[] prompt = model.tokenizer().encodePrompt("Lily and Tom");
    KvCache split = pool.allocate();
    KvCache whole = pool.allocate();
    int dim = model.config().dim();
    try {
      prefill(split, prompt);
      prefill(whole, prompt);
      int exit = 2;
      int layers = model.config().layerCount();
      SequenceInput tree =
          new SequenceInput(
              split, split.length(), TOKENS, positions(split.length()), AncestorMask.tree(PARENTS));
      // layers [0, 2) return the residual stream after two layers ...
      float[] shallow =
          Arrays.copyOf(
              model
                  .forward(
                      List.of(tree), null, ForwardOptions.layers(0, exit, ForwardOptions.Rows.ALL))
                  .preNormHidden(),
              TOKENS.length * dim);
      // ... which layers [2, L) continue from, given only the positions (no tokens)
      SequenceInput deep =
          new SequenceInput(
              split, split.length(), null, positions(split.length()), AncestorMask.tree(PARENTS));
      float[] rest =
          Arrays.copyOf(
              model
                  .forward(
                      List.of(deep),
                      shallow,
                      new ForwardOptions(
                          exit, layers, ForwardOptions.Rows.ALL, true, false, false, new int[0]))
                  .logits(),
              TOKENS.length * model.config().vocabularySize());
      ForwardResult full =
          model.forward(
              new SequenceInput(
                  whole,
                  whole.length(),
                  TOKENS,
                  positions(whole.length()),
                  AncestorMask.tree(PARENTS)),
              ForwardOptions.allLogits(model.config()).withResidualAfter(exit));
      assertClose(
          rest,
          Arrays.copyOf(full.logits(), TOKENS.length * model.config().vocabularySize()),
          "split vs full logits");
      assertClose(
          shallow,
          Arrays.copyOf(full.residualAfter(exit), TOKENS.length * dim),
          "residual after two layers");
    } finally {
      split.release();
      whole.release();
    }
  }

  @ParameterizedTest
  @MethodSource("backends")
  void aStatelessForwardShouldEqualACachedPrefill(String backend) {
    on(backend);
    int[] a = model.tokenizer().encodePrompt("Lily and Tom went to the park");
    int[] b = model.tokenizer().encodePrompt("The sun");
    int vocab = model.config().vocabularySize();
    KvCache cache = pool.allocate();
    try {
      float[] cached =
          Arrays.copyOf(
              model
                  .forward(SequenceInput.causal(cache, b), ForwardOptions.allLogits(model.config()))
                  .logits(),
              b.length * vocab);
      ForwardResult stateless =
          model.forward(
              List.of(SequenceInput.stateless(a, a.length), SequenceInput.stateless(b, b.length)),
              null,
              ForwardOptions.allLogits(model.config()));
      int first = stateless.logitsOffset(stateless.row(1, 0));
      assertClose(
          Arrays.copyOfRange(stateless.logits(), first, first + b.length * vocab),
          cached,
          "stateless");
    } finally {
      cache.release();
    }
  }

  private void prefill(KvCache cache, int[] prompt) {
    model.forward(SequenceInput.causal(cache, prompt), ForwardOptions.lastLogits(model.config()));
    cache.commitNext(prompt.length);
  }

  private float[] decodeOne(KvCache cache, int token) {
    ForwardResult r =
        model.forward(
            SequenceInput.causal(cache, new int[] {token}),
            ForwardOptions.lastLogits(model.config()));
    cache.commit(0);
    return row(r, 0);
  }

  private float[][] forwardTree(KvCache cache) {
    SequenceInput input =
        new SequenceInput(
            cache, cache.length(), TOKENS, positions(cache.length()), AncestorMask.tree(PARENTS));
    ForwardResult result = model.forward(input, ForwardOptions.allLogits(model.config()));
    float[][] rows = new float[TOKENS.length][];
    for (int i = 0; i < TOKENS.length; i++) {
      rows[i] = row(result, result.row(0, i));
    }
    return rows;
  }

  /** A copy of one row of a result's logits. */
  private static float[] row(ForwardResult result, int row) {
    int offset = result.logitsOffset(row);
    return Arrays.copyOfRange(result.logits(), offset, offset + result.vocabularySize());
  }

  private static int[] positions(int prefix) {
    int[] positions = new int[PARENTS.length];
    for (int i = 0; i < PARENTS.length; i++) {
      positions[i] = PARENTS[i] < 0 ? prefix : positions[PARENTS[i]] + 1;
    }
    return positions;
  }

  private static List<Integer> leaves() {
    List<Integer> leaves = new ArrayList<>();
    for (int i = 0; i < PARENTS.length; i++) {
      final int node = i;
      if (Arrays.stream(PARENTS).noneMatch(p -> p == node)) {
        leaves.add(i);
      }
    }
    return leaves;
  }

  private static List<Integer> pathTo(int node) {
    List<Integer> path = new ArrayList<>();
    for (int n = node; n >= 0; n = PARENTS[n]) {
      path.add(0, n);
    }
    return path;
  }

  private static void assertClose(float[] actual, float[] expected, String what) {
    assertThat(actual).as(what).hasSameSizeAs(expected);
    float worst = 0;
    for (int i = 0; i < actual.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    }
    assertThat(worst).as(what + ": largest difference").isLessThanOrEqualTo(TOLERANCE);
  }
}
