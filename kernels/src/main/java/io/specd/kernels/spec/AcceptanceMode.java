package io.specd.kernels.spec;

/**
 * How drafts are accepted at temperature &gt; 0 (greedy decoding always takes the longest path of
 * target argmax tokens).
 */
public enum AcceptanceMode {
  /**
   * Lossless: the output is distributed exactly as plain sampling from the target. Point-mass trees
   * use the sibling scheme (accept child s with probability r(s), else zero r(s) and renormalise);
   * sampled chains use rejection sampling with min(1, p/q) and the residual.
   */
  LOSSLESS,
  /**
   * Medusa's typical acceptance: a draft token is accepted when its target probability exceeds
   * {@code min(ε, δ·exp(-H(p)))} (ε = 0.09, δ = 0.3), the longest such path wins and the next token
   * is the target's argmax. Faster, but it does not preserve the target distribution: lossy, and
   * only used when asked for by name.
   */
  TYPICAL_LOSSY
}
