package io.specd.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The thread pool covers every item exactly once, right from its first job, and reports failures.
 */
class ParallelTest {

  @Test
  void everyItemShouldRunExactlyOnceInGrainAlignedChunks() {
    for (int job = 0; job < 200; job++) {
      try (Parallel parallel = new Parallel(3)) { // a job published before the workers first run
        int total = 1 + job * 37 % 1000;
        int grain = 1 + job % 7;
        AtomicIntegerArray runs = new AtomicIntegerArray(total);
        parallel.run(
            total,
            grain,
            (from, to) -> {
              assertThat(from % grain).isZero();
              for (int i = from; i < to; i++) {
                runs.incrementAndGet(i);
              }
            });
        for (int i = 0; i < total; i++) {
          assertThat(runs.get(i)).as("item %d of %d", i, total).isEqualTo(1);
        }
      }
    }
  }

  @Test
  void manyJobsInARowShouldAllComplete() {
    try (Parallel parallel = new Parallel(2)) {
      AtomicInteger chunks = new AtomicInteger();
      for (int job = 0; job < 10_000; job++) {
        parallel.run(64, 4, (from, to) -> chunks.incrementAndGet());
      }
      assertThat(chunks.get()).isEqualTo(10_000 * 16);
    }
  }

  @Test
  void aFailureInAnyThreadShouldReachTheCaller() {
    try (Parallel parallel = new Parallel(2)) {
      assertThatThrownBy(
              () ->
                  parallel.run(
                      1000,
                      1,
                      (from, to) -> {
                        if (to == 1000) {
                          throw new IllegalStateException("the last chunk failed");
                        }
                      }))
          .hasMessage("the last chunk failed");
      AtomicInteger done = new AtomicInteger();
      parallel.run(10, 1, (from, to) -> done.addAndGet(to - from));
      assertThat(done.get()).isEqualTo(10);
    }
  }
}
