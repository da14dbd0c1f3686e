package io.specd.kernels.spec;

/** The target's logits at each node of a verified tree. */
public interface NodeLogits {

  /** The target's most likely next token after a node. */
  int argmax(int node);

  /** The array holding the target's raw logits after every node, a row of {@code [vocab]} each. */
  float[] logits();

  /** Where the row of a node starts in {@link #logits()}. */
  int offset(int node);

  /** Tokens per row. */
  int vocabularySize();
}
