package io.specd.kernels.llama;

/**
 * Rotary position embedding as one rotation matrix per position, built on the host.
 *
 * <p>Rotating a head vector {@code x} (a row) at position {@code p} is {@code x · R(p)}, with
 * {@code R(p)} block-rotations on the pairs the {@link RopeType} defines and the identity on
 * dimensions beyond {@code ropeDimensions}. Applying RoPE this way costs one batched matrix product
 * per projection instead of a handful of element-wise ops, which is what matters when every op has
 * a fixed cost. Angles are {@code (p / scale) · base^(-2i/ropeDimensions) / factor_i} for pair
 * {@code i} (the factors of Llama 3's RoPE scaling, else 1), computed in double precision.
 *
 * <p>Immutable; cos/sin are tabulated lazily per position on demand.
 */
public final class RopeRotations {
  private final int headSize;
  private final int rotated;
  private final RopeType type;
  private final double[] inverseFrequencies;
  private final double scale;

  public RopeRotations(LlamaConfig config) {
    this.headSize = config.headSize();
    this.rotated = config.ropeDimensions();
    this.type = config.ropeType();
    this.scale = config.ropeScale();
    this.inverseFrequencies = new double[rotated / 2];
    float[] factors = config.ropeFrequencyFactors();
    for (int i = 0; i < rotated / 2; i++) {
      inverseFrequencies[i] =
          Math.pow(config.ropeBase(), -2.0 * i / rotated) / (factors == null ? 1.0 : factors[i]);
    }
  }

  public int headSize() {
    return headSize;
  }

  /**
   * Writes {@code R(position)} row-major into {@code out} at {@code offset} ({@code headSize²}
   * floats).
   */
  public void write(int position, float[] out, int offset) {
    int d = headSize;
    java.util.Arrays.fill(out, offset, offset + d * d, 0f);
    for (int j = rotated; j < d; j++) {
      out[offset + j * d + j] = 1f;
    }
    double p = position / scale;
    for (int i = 0; i < rotated / 2; i++) {
      double angle = p * inverseFrequencies[i];
      float cos = (float) Math.cos(angle);
      float sin = (float) Math.sin(angle);
      // the pair (a, b) rotates as: out[a] = x[a]cos - x[b]sin, out[b] = x[a]sin + x[b]cos
      int a = first(i);
      int b = second(i);
      out[offset + a * d + a] = cos; // x[a] -> out[a]
      out[offset + b * d + a] = -sin; // x[b] -> out[a]
      out[offset + a * d + b] = sin; // x[a] -> out[b]
      out[offset + b * d + b] = cos; // x[b] -> out[b]
    }
  }

  /** Rotated dimension pairs per head. */
  public int pairs() {
    return rotated / 2;
  }

  /**
   * The dimensions of pair {@code i}: {@code (2i, 2i+1)} for {@link RopeType#NORM}, {@code (i, i +
   * pairs)} for {@link RopeType#NEOX}; the first is returned, the second is {@link #second}.
   */
  public int first(int pair) {
    return type == RopeType.NORM ? 2 * pair : pair;
  }

  /** The second dimension of pair {@code i} (see {@link #first}). */
  public int second(int pair) {
    return type == RopeType.NORM ? 2 * pair + 1 : pair + rotated / 2;
  }

  /**
   * The cosines and sines of every pair's angle at a position, into {@code cos[offset + i]} and
   * {@code sin[offset + i]} (computed in double precision, as {@link #write} does).
   */
  public void angles(int position, float[] cos, float[] sin, int offset) {
    double p = position / scale;
    for (int i = 0; i < rotated / 2; i++) {
      double angle = p * inverseFrequencies[i];
      cos[offset + i] = (float) Math.cos(angle);
      sin[offset + i] = (float) Math.sin(angle);
    }
  }

  /** Row-major rotation matrices for a list of positions: {@code [positions.length, d, d]}. */
  public float[] matrices(int[] positions) {
    int size = headSize * headSize;
    float[] out = new float[positions.length * size];
    for (int i = 0; i < positions.length; i++) {
      write(positions[i], out, i * size);
    }
    return out;
  }
}
