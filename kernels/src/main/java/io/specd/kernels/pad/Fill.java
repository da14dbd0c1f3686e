package io.specd.kernels.pad;

import java.util.random.RandomGenerator;

/** What padding puts in a region of a tensor: exact zeros, or small random weights. */
enum Fill {
  ZERO,
  RANDOM;

  /** The next value: 0, or a draw from N(0, {@link PadPlan#RANDOM_STD}²). */
  float next(RandomGenerator random) {
    return this == ZERO ? 0f : (float) random.nextGaussian() * PadPlan.RANDOM_STD;
  }
}
