package io.specd.kernels.llama;

/**
 * How rotary position embedding pairs up the dimensions of a head.
 *
 * <p>{@link #NORM} rotates adjacent pairs {@code (2i, 2i+1)}: the layout of GGUF files of the
 * {@code llama} architecture (llama.cpp's rope type "norm", whose converter permutes the Q and K
 * weights into it). {@link #NEOX} rotates {@code (i, i + d/2)}: the layout of Hugging Face
 * checkpoints ({@code rotate_half}).
 */
public enum RopeType {
  NORM,
  NEOX
}
