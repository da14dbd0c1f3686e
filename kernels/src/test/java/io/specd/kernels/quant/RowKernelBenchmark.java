package io.specd.kernels.quant;

import io.specd.kernels.format.GgmlType;
import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.TensorBytes;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Throughput of the row kernels on memory-mapped weights (not a test; run by hand):
 *
 * <pre>
 * mvn -q -pl policies,kernels -am test-compile
 * java --add-modules jdk.incubator.vector -cp kernels/target/classes:kernels/target/test-classes \
 *     io.specd.kernels.quant.RowKernelBenchmark [types...]
 * </pre>
 *
 * <p>For each type it writes a GGUF file with one random {@code [rows, 2048]} matrix of about 400
 * MB, then reports GB/s of encoded weights for {@code dot} over every row (each row copied from the
 * mapping into a per-thread scratch first) on one thread and on two (rows split in halves), and on
 * the first ~25 MB the time of {@code dots} with 2, 4 and 8 tokens relative to {@code dot}: once
 * called on whole rows, once on column tiles of row batches ({@link #tiledDotsRatios}).
 */
public final class RowKernelBenchmark {
  private static final int ROW_LENGTH = 2048;
  private static final long MATRIX_BYTES = 400_000_000L;
  private static final long SMALL_MATRIX_BYTES = 25_000_000L;
  private static final int REPEATS = 7;
  private static final int TILE_ROWS = 64;
  private static final int TILE_COLUMNS = 512;
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private RowKernelBenchmark() {}

  public static void main(String[] args) throws Exception {
    GgmlType[] types =
        args.length > 0
            ? Arrays.stream(args).map(GgmlType::valueOf).toArray(GgmlType[]::new)
            : Arrays.stream(GgmlType.values())
                .filter(GgmlType::isSupported)
                .toArray(GgmlType[]::new);
    System.out.printf(
        "%-5s %6s %9s %6s %9s   %7s %7s %7s   %7s %7s %7s%n",
        "type",
        "MB",
        "1 thread",
        "B/row",
        "2 threads",
        "dots/2",
        "dots/4",
        "dots/8",
        "tiled/2",
        "tiled/4",
        "tiled/8");
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (GgmlType type : types) {
        Path file = Files.createTempFile("specd-bench-" + type, ".gguf");
        try {
          TensorBytes matrix = writeMatrix(file, type);
          double oneThread = gigabytesPerSecond(matrix, 1, pool);
          double allocated = allocatedPerRow;
          double twoThreads = gigabytesPerSecond(matrix, 2, pool);
          double[] ratios = dotsRatios(matrix, new int[] {2, 4, 8});
          double[] tiled = tiledDotsRatios(matrix, new int[] {2, 4, 8});
          System.out.printf(
              "%-5s %6.0f %9.2f %6.0f %9.2f   %7.2f %7.2f %7.2f   %7.2f %7.2f %7.2f%n",
              type,
              matrix.rows() * matrix.rowBytes() / 1e6,
              oneThread,
              allocated,
              twoThreads,
              ratios[0],
              ratios[1],
              ratios[2],
              tiled[0],
              tiled[1],
              tiled[2]);
        } finally {
          Files.delete(file);
        }
      }
    } finally {
      pool.shutdown();
    }
  }

  /** Best of several passes of dot over every row, split between {@code threads} threads. */
  private static double gigabytesPerSecond(TensorBytes matrix, int threads, ExecutorService pool)
      throws Exception {
    float[] x = activations(1);
    long best = Long.MAX_VALUE;
    for (int repeat = 0; repeat < REPEATS; repeat++) {
      long start = System.nanoTime();
      Future<?>[] parts = new Future<?>[threads];
      for (int t = 0; t < threads; t++) {
        long first = matrix.rows() * t / threads;
        long end = matrix.rows() * (t + 1) / threads;
        parts[t] = pool.submit(() -> dotRows(matrix, first, end, x));
      }
      for (Future<?> part : parts) {
        part.get();
      }
      best = Math.min(best, System.nanoTime() - start);
    }
    return (double) matrix.rows() * matrix.rowBytes() / best;
  }

  /** Bytes allocated per row by the last one-thread pass: non-zero means boxed vectors. */
  private static volatile double allocatedPerRow;

  private static float dotRows(TensorBytes matrix, long first, long end, float[] x) {
    RowKernel kernel = RowKernel.of(matrix.type());
    byte[] row = new byte[matrix.rowBytes()];
    long allocatedBefore = THREADS.getCurrentThreadAllocatedBytes();
    float sink = 0;
    for (long r = first; r < end; r++) {
      matrix.copyRows(r, 1, row, 0);
      sink += kernel.dot(row, 0, x, 0, ROW_LENGTH);
    }
    allocatedPerRow =
        (double) (THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore) / (end - first);
    return sink;
  }

  /** Time of dots with each token count over the first ~25 MB, divided by the time of dot. */
  private static double[] dotsRatios(TensorBytes matrix, int[] tokenCounts) {
    long rows = Math.min(matrix.rows(), SMALL_MATRIX_BYTES / matrix.rowBytes());
    RowKernel kernel = RowKernel.of(matrix.type());
    float[] x = activations(8);
    float[] out = new float[8];
    byte[] row = new byte[matrix.rowBytes()];
    double[] ratios = new double[tokenCounts.length];
    long single = Long.MAX_VALUE;
    long[] multi = new long[tokenCounts.length];
    Arrays.fill(multi, Long.MAX_VALUE);
    for (int repeat = 0; repeat < 3 * REPEATS; repeat++) {
      long start = System.nanoTime();
      for (long r = 0; r < rows; r++) {
        matrix.copyRows(r, 1, row, 0);
        out[0] = kernel.dot(row, 0, x, 0, ROW_LENGTH);
      }
      single = Math.min(single, System.nanoTime() - start);
      for (int i = 0; i < tokenCounts.length; i++) {
        start = System.nanoTime();
        for (long r = 0; r < rows; r++) {
          matrix.copyRows(r, 1, row, 0);
          kernel.dots(row, 0, x, 0, ROW_LENGTH, tokenCounts[i], out, 0, 1, ROW_LENGTH);
        }
        multi[i] = Math.min(multi[i], System.nanoTime() - start);
      }
    }
    for (int i = 0; i < tokenCounts.length; i++) {
      ratios[i] = (double) multi[i] / single;
    }
    return ratios;
  }

  /**
   * As {@link #dotsRatios} but the way a forward pass should call {@code dots} for several tokens:
   * rows in batches of {@value #TILE_ROWS}, each batch in column tiles of {@value #TILE_COLUMNS},
   * so the tokens' activations of one tile stay in L1 across the batch's rows; the partial products
   * of the tiles are summed. Compared with untiled {@code dot} over the same rows.
   */
  private static double[] tiledDotsRatios(TensorBytes matrix, int[] tokenCounts) {
    long rows =
        Math.min(matrix.rows(), SMALL_MATRIX_BYTES / matrix.rowBytes()) / TILE_ROWS * TILE_ROWS;
    RowKernel kernel = RowKernel.of(matrix.type());
    float[] x = activations(8);
    byte[] batch = new byte[TILE_ROWS * matrix.rowBytes()];
    float[] out = new float[TILE_ROWS * 8];
    float[] partial = new float[8];
    long single = Long.MAX_VALUE;
    long[] multi = new long[tokenCounts.length];
    Arrays.fill(multi, Long.MAX_VALUE);
    for (int repeat = 0; repeat < 3 * REPEATS; repeat++) {
      long start = System.nanoTime();
      for (long first = 0; first < rows; first += TILE_ROWS) {
        matrix.copyRows(first, TILE_ROWS, batch, 0);
        for (int r = 0; r < TILE_ROWS; r++) {
          out[r] = kernel.dot(batch, r * matrix.rowBytes(), x, 0, ROW_LENGTH);
        }
      }
      single = Math.min(single, System.nanoTime() - start);
      for (int i = 0; i < tokenCounts.length; i++) {
        int tokens = tokenCounts[i];
        start = System.nanoTime();
        for (long first = 0; first < rows; first += TILE_ROWS) {
          matrix.copyRows(first, TILE_ROWS, batch, 0);
          Arrays.fill(out, 0);
          for (int column = 0; column < ROW_LENGTH; column += TILE_COLUMNS) {
            int tileOffset = (int) matrix.type().byteSize(column);
            for (int r = 0; r < TILE_ROWS; r++) {
              kernel.dots(
                  batch,
                  r * matrix.rowBytes() + tileOffset,
                  x,
                  column,
                  ROW_LENGTH,
                  tokens,
                  partial,
                  0,
                  1,
                  TILE_COLUMNS);
              for (int t = 0; t < tokens; t++) {
                out[r * 8 + t] += partial[t];
              }
            }
          }
        }
        multi[i] = Math.min(multi[i], System.nanoTime() - start);
      }
    }
    double[] ratios = new double[tokenCounts.length];
    for (int i = 0; i < tokenCounts.length; i++) {
      ratios[i] = (double) multi[i] / single;
    }
    return ratios;
  }

  private static float[] activations(int tokens) {
    Random random = new Random(1);
    float[] x = new float[tokens * ROW_LENGTH];
    for (int i = 0; i < x.length; i++) {
      x[i] = random.nextFloat() - 0.5f;
    }
    return x;
  }

  /** A GGUF file holding one {@code [rows, 2048]} tensor "w" of the type, ~400 MB of data. */
  private static TensorBytes writeMatrix(Path file, GgmlType type) throws IOException {
    long rowBytes = type.byteSize(ROW_LENGTH);
    long rows = MATRIX_BYTES / rowBytes;
    byte[] name = "w".getBytes(StandardCharsets.UTF_8);
    ByteBuffer header = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
    header.putInt(0x46554747).putInt(3).putLong(1).putLong(0);
    header.putLong(name.length).put(name).putInt(2).putLong(ROW_LENGTH).putLong(rows);
    header.putInt(type.id()).putLong(0);
    int dataStart = (header.position() + 31) / 32 * 32;
    // 256 random rows, repeated: contents do not change the speed
    int distinctRows = 256;
    byte[] pattern = RandomRows.of(type, distinctRows * ROW_LENGTH, new Random(2));
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(Arrays.copyOf(header.array(), dataStart));
      for (long written = 0; written < rows; written += distinctRows) {
        int now = (int) Math.min(distinctRows, rows - written);
        out.write(pattern, 0, (int) (now * rowBytes));
      }
    }
    return GgufFile.open(file).tensorBytes("w");
  }
}
