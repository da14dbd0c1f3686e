package io.specd.kernels.spec;

/** The target's logits at each node of a verified tree. */
public interface NodeLogits {

  /** The target's most likely next token after a node. */
  int argmax(int node);

  /** The target's raw logits after a node, {@code [vocab]}. */
  float[] logits(int node);
}
