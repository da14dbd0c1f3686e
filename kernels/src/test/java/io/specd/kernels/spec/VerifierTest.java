package io.specd.kernels.spec;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.ThreadMXBean;
import io.specd.kernels.sample.SamplingWorkspace;
import io.specd.policies.spec.SamplingParams;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** What verification costs besides its arithmetic. */
class VerifierTest {

  /**
   * Lossless sampled verification reads each node's logits in place and writes its distributions to
   * the request's workspace: over a 32,000-token vocabulary a three-draft chain allocates a few
   * small objects (the path, the acceptance), nothing of the vocabulary's size.
   */
  @Test
  void sampledVerificationShouldAllocateNothingOfTheVocabularysSize() {
    int vocab = 32_000;
    int nodes = 4;
    SplittableRandom random = new SplittableRandom(5);
    float[] rows = new float[nodes * vocab];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = (float) (2 * random.nextGaussian());
    }
    NodeLogits logits =
        new NodeLogits() {
          @Override
          public int argmax(int node) {
            throw new UnsupportedOperationException("greedy only");
          }

          @Override
          public float[] logits() {
            return rows;
          }

          @Override
          public int offset(int node) {
            return node * vocab;
          }

          @Override
          public int vocabularySize() {
            return vocab;
          }
        };
    DraftTree.Builder chain = DraftTree.builder(7, DraftTree.Proposals.POINT_MASS);
    int parent = 0;
    for (int depth = 1; depth < nodes; depth++) {
      parent = chain.add(parent, 100 + depth, 0.5f, 0.5f, 1f, null);
    }
    DraftTree tree = chain.build();
    SamplingParams sampling = new SamplingParams(1.0, 40, 0.95, 3);
    SamplingWorkspace workspace = new SamplingWorkspace(vocab);
    for (int warm = 0; warm < 50; warm++) {
      Verifier.accept(tree, logits, sampling, random, AcceptanceMode.LOSSLESS, workspace);
    }
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    int calls = 100;
    long before = threads.getThreadAllocatedBytes(thread);
    for (int call = 0; call < calls; call++) {
      Verifier.accept(tree, logits, sampling, random, AcceptanceMode.LOSSLESS, workspace);
    }
    long perCall = (threads.getThreadAllocatedBytes(thread) - before) / calls;
    assertThat(perCall).as("bytes a verification allocated").isLessThan(1_000);
  }
}
