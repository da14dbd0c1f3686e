package io.specd.kernels.cpu;

/**
 * Matrix products of a forward step, each split across the pool's threads by output rows. Several
 * products over the same input (Q, K and V; gate and up) are handed out as one job over their rows
 * laid end to end (each starting at a multiple of the job's grain, the least common multiple of
 * theirs, so every thread's share starts at a multiple of each matrix's own grain), so the threads
 * meet once. Reused for every product: nothing is allocated.
 */
final class Products implements Parallel.RangeTask {
  private final Parallel parallel;
  private final WeightMatrix[] matrices = new WeightMatrix[3];
  private final float[][] outputs = new float[3][];
  private final int[] starts = new int[3];
  private final int[] ends = new int[3];
  private int count;
  private int grain; // of the job: a multiple of every matrix's
  private float[] input;
  private int inputOffset;
  private int tokens;

  Products(Parallel parallel) {
    this.parallel = parallel;
  }

  /** {@code y = x · Wᵀ} for {@code tokens} rows of x. */
  void multiply(WeightMatrix w, float[] x, int xOffset, int tokens, float[] y) {
    start(x, xOffset, tokens);
    add(w, y);
    run();
  }

  /** {@code y1 = x · W1ᵀ} and {@code y2 = x · W2ᵀ}, in one job. */
  void multiply(WeightMatrix w1, float[] y1, WeightMatrix w2, float[] y2, float[] x, int tokens) {
    start(x, 0, tokens);
    add(w1, y1);
    add(w2, y2);
    run();
  }

  /** Three products of one input, in one job. */
  void multiply(
      WeightMatrix w1,
      float[] y1,
      WeightMatrix w2,
      float[] y2,
      WeightMatrix w3,
      float[] y3,
      float[] x,
      int tokens) {
    start(x, 0, tokens);
    add(w1, y1);
    add(w2, y2);
    add(w3, y3);
    run();
  }

  private void start(float[] x, int xOffset, int tokens) {
    this.input = x;
    this.inputOffset = xOffset;
    this.tokens = tokens;
    this.count = 0;
    this.grain = 1;
  }

  /** Adds a product; its rows start at a multiple of the grain of the job. */
  private void add(WeightMatrix w, float[] y) {
    matrices[count] = w;
    outputs[count] = y;
    grain = leastCommonMultiple(grain, w.grain());
    starts[count] = count == 0 ? 0 : roundUp(ends[count - 1], grain);
    ends[count] = starts[count] + w.rows();
    count++;
  }

  private static int leastCommonMultiple(int a, int b) {
    int x = a;
    int y = b;
    while (y != 0) {
      int r = x % y;
      x = y;
      y = r;
    }
    return a / x * b;
  }

  private static int roundUp(int n, int multiple) {
    return (n + multiple - 1) / multiple * multiple;
  }

  private void run() {
    parallel.run(ends[count - 1], grain, this);
    input = null;
  }

  @Override
  public void run(int from, int to) {
    for (int m = 0; m < count; m++) {
      int lo = Math.max(from, starts[m]);
      int hi = Math.min(to, ends[m]);
      if (lo < hi) {
        matrices[m].multiply(
            input, inputOffset, tokens, outputs[m], 0, lo - starts[m], hi - starts[m]);
      }
    }
  }
}
