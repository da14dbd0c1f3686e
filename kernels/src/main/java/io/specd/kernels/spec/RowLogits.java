package io.specd.kernels.spec;

import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.sample.Sampler;
import java.util.Arrays;

/**
 * Node logits read from one sequence's rows of a verification output: node {@code i} is the
 * sequence's new token {@code i}. The argmax of a row is computed when first asked (greedy
 * acceptance visits only the accepted path and its children's parents).
 */
final class RowLogits implements NodeLogits {
  private final float[] logits;
  private final int firstOffset;
  private final int vocabularySize;
  private final int[] argmax;

  /**
   * @param result one sequence's verification outputs (with logits of every new token)
   * @param nodes the sequence's new tokens
   */
  RowLogits(ForwardResult result, int nodes) {
    this.logits = result.logits();
    this.vocabularySize = result.vocabularySize();
    this.firstOffset = result.logitsOffset(result.row(0, 0));
    this.argmax = new int[nodes];
    Arrays.fill(argmax, -1);
  }

  @Override
  public int argmax(int node) {
    if (argmax[node] < 0) {
      argmax[node] = Sampler.argmax(logits, offset(node), vocabularySize);
    }
    return argmax[node];
  }

  @Override
  public float[] logits() {
    return logits;
  }

  @Override
  public int vocabularySize() {
    return vocabularySize;
  }

  @Override
  public int offset(int node) {
    return firstOffset + node * vocabularySize;
  }
}
