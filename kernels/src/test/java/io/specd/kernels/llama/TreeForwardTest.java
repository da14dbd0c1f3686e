package io.specd.kernels.llama;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.specd.kernels.TestModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Tree verification against the plain causal forward it must reproduce. */
class TreeForwardTest {
  private static final float TOLERANCE = 1e-4f;
  private static LlamaModel model;
  private static KvCachePool pool;

  // A tree of 8 nodes over a prompt: node 0 is the root; parents precede children.
  private static final int[] TOKENS = {403, 407, 261, 378, 319, 270, 292, 381};
  private static final int[] PARENTS = {-1, 0, 0, 1, 1, 2, 3, 5};

  @BeforeAll
  static void load() {
    model = TestModels.loadStories260K();
    pool = new KvCachePool(model, 3, 128);
  }

  @AfterAll
  static void close() {
    pool.close();
    model.close();
  }

  @Test
  void treeLogitsShouldEqualDecodingEachPathTokenByToken() {
    int[] prompt = model.tokenizer().encodePrompt("Lily and Tom");
    KvCache tree = pool.allocate();
    try (NDManager m = model.manager().newSubManager()) {
      prefill(tree, prompt);
      float[][] treeLogits = forwardTree(tree, m);
      for (int leaf : leaves()) {
        List<Integer> path = pathTo(leaf);
        KvCache chain = pool.allocate();
        try {
          prefill(chain, prompt);
          for (int node : path) {
            float[] logits = decodeOne(chain, TOKENS[node], m);
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

  @Test
  void committingAPathShouldLeaveTheCacheOfDecodingThatPathAlone() {
    int[] prompt = model.tokenizer().encodePrompt("Lily and Tom");
    int[] path = pathTo(7).stream().mapToInt(Integer::intValue).toArray(); // 0 -> 2 -> 5 -> 7
    KvCache tree = pool.allocate();
    KvCache chain = pool.allocate();
    try (NDManager m = model.manager().newSubManager()) {
      prefill(tree, prompt);
      forwardTree(tree, m);
      tree.commit(path);

      prefill(chain, prompt);
      for (int node : path) {
        decodeOne(chain, TOKENS[node], m);
      }
      assertThat(tree.length()).isEqualTo(chain.length());
      float[][] fromTree = tree.snapshot();
      float[][] fromChain = chain.snapshot();
      assertClose(fromTree[0], fromChain[0], "keys");
      assertClose(fromTree[1], fromChain[1], "values");
      // and the next token sees the same context
      assertClose(decodeOne(tree, 300, m), decodeOne(chain, 300, m), "next token after commit");
    } finally {
      tree.release();
      chain.release();
    }
  }

  @Test
  void aBatchShouldGiveEachSequenceItsOwnResult() {
    int[] promptA = model.tokenizer().encodePrompt("Once upon a time");
    int[] promptB = model.tokenizer().encodePrompt("The cat sat on the mat and");
    KvCache a = pool.allocate();
    KvCache b = pool.allocate();
    KvCache alone = pool.allocate();
    try (NDManager m = model.manager().newSubManager()) {
      // ragged prefill of two prompts in one forward
      ForwardResult both =
          LlamaForward.forward(
              model,
              List.of(SequenceInput.causal(a, promptA), SequenceInput.causal(b, promptB)),
              null,
              ForwardOptions.lastLogits(model.config()),
              m);
      float[] all = both.logits().toFloatArray();
      int vocab = model.config().vocabularySize();
      a.commitNext(promptA.length);
      b.commitNext(promptB.length);
      ForwardResult single =
          LlamaForward.forward(
              model,
              SequenceInput.causal(alone, promptB),
              ForwardOptions.lastLogits(model.config()),
              m);
      assertClose(
          Arrays.copyOfRange(all, vocab, 2 * vocab), single.logits().toFloatArray(), "batched B");
      alone.commitNext(promptB.length);
      // then a tree for one sequence and a single token for the other, in one forward
      ForwardResult mixed =
          LlamaForward.forward(
              model,
              List.of(
                  new SequenceInput(
                      a, a.length(), TOKENS, positions(a.length()), AncestorMask.tree(PARENTS)),
                  SequenceInput.causal(b, new int[] {300})),
              null,
              ForwardOptions.allLogits(model.config()),
              m);
      float[] mixedLogits = mixed.logits().toFloatArray();
      float[] expected = decodeOne(alone, 300, m);
      int row = mixed.row(1, 0);
      assertClose(
          Arrays.copyOfRange(mixedLogits, row * vocab, (row + 1) * vocab), expected, "mixed batch");
    } finally {
      a.release();
      b.release();
      alone.release();
    }
  }

  @Test
  void aSplitForwardShouldEqualTheFullForward() {
    int[] prompt = model.tokenizer().encodePrompt("Lily and Tom");
    KvCache split = pool.allocate();
    KvCache whole = pool.allocate();
    try (NDManager m = model.manager().newSubManager()) {
      prefill(split, prompt);
      prefill(whole, prompt);
      int exit = 2;
      int layers = model.config().layerCount();
      SequenceInput tree =
          new SequenceInput(
              split, split.length(), TOKENS, positions(split.length()), AncestorMask.tree(PARENTS));
      // layers [0, 2) return the residual stream after two layers ...
      ForwardResult shallow =
          LlamaForward.forward(
              model,
              List.of(tree),
              null,
              ForwardOptions.layers(0, exit, ForwardOptions.Rows.ALL),
              m);
      // ... which layers [2, L) continue from, given only the positions (no tokens)
      SequenceInput deep =
          new SequenceInput(
              split, split.length(), null, positions(split.length()), AncestorMask.tree(PARENTS));
      ForwardResult rest =
          LlamaForward.forward(
              model,
              List.of(deep),
              shallow.preNormHidden(),
              new ForwardOptions(
                  exit, layers, ForwardOptions.Rows.ALL, true, false, false, new int[0]),
              m);
      ForwardResult full =
          LlamaForward.forward(
              model,
              new SequenceInput(
                  whole,
                  whole.length(),
                  TOKENS,
                  positions(whole.length()),
                  AncestorMask.tree(PARENTS)),
              ForwardOptions.allLogits(model.config()).withResidualAfter(exit),
              m);
      assertClose(
          rest.logits().toFloatArray(), full.logits().toFloatArray(), "split vs full logits");
      assertClose(
          shallow.preNormHidden().toFloatArray(),
          full.residuals().get(exit).toFloatArray(),
          "residual after two layers");
    } finally {
      split.release();
      whole.release();
    }
  }

  @Test
  void aStatelessForwardShouldEqualACachedPrefill() {
    int[] a = model.tokenizer().encodePrompt("Lily and Tom went to the park");
    int[] b = model.tokenizer().encodePrompt("The sun");
    KvCache cache = pool.allocate();
    try (NDManager m = model.manager().newSubManager()) {
      float[] cached =
          LlamaForward.forward(
                  model,
                  SequenceInput.causal(cache, b),
                  ForwardOptions.allLogits(model.config()),
                  m)
              .logits()
              .toFloatArray();
      ForwardResult stateless =
          LlamaForward.forward(
              model,
              List.of(SequenceInput.stateless(a, a.length), SequenceInput.stateless(b, b.length)),
              null,
              ForwardOptions.allLogits(model.config()),
              m);
      float[] all = stateless.logits().toFloatArray();
      int vocab = model.config().vocabularySize();
      int first = stateless.row(1, 0);
      assertClose(
          Arrays.copyOfRange(all, first * vocab, (first + b.length) * vocab), cached, "stateless");
    } finally {
      cache.release();
    }
  }

  private static void prefill(KvCache cache, int[] prompt) {
    try (NDManager m = model.manager().newSubManager()) {
      LlamaForward.forward(
          model, SequenceInput.causal(cache, prompt), ForwardOptions.lastLogits(model.config()), m);
      cache.commitNext(prompt.length);
    }
  }

  private static float[] decodeOne(KvCache cache, int token, NDManager m) {
    ForwardResult r =
        LlamaForward.forward(
            model,
            SequenceInput.causal(cache, new int[] {token}),
            ForwardOptions.lastLogits(model.config()),
            m);
    cache.commit(0);
    return r.logits().toFloatArray();
  }

  private static float[][] forwardTree(KvCache cache, NDManager m) {
    SequenceInput input =
        new SequenceInput(
            cache, cache.length(), TOKENS, positions(cache.length()), AncestorMask.tree(PARENTS));
    float[] flat =
        LlamaForward.forward(model, input, ForwardOptions.allLogits(model.config()), m)
            .logits()
            .toFloatArray();
    int vocab = model.config().vocabularySize();
    float[][] rows = new float[TOKENS.length][];
    for (int i = 0; i < TOKENS.length; i++) {
      rows[i] = Arrays.copyOfRange(flat, i * vocab, (i + 1) * vocab);
    }
    return rows;
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
