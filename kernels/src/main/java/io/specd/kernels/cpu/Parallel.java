package io.specd.kernels.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A persistent pool that splits a range of work items (rows of a product) across threads: the
 * caller takes the first share and waits for the others. Workers spin briefly for the next job,
 * then park, so a step's many small jobs cost little to hand out and an idle pool costs nothing.
 * With one thread everything runs on the caller. Jobs must not allocate; {@link #run} does not.
 *
 * <p>One caller at a time (the model's owner).
 */
final class Parallel implements AutoCloseable {
  /** Work over a range of items. */
  @FunctionalInterface
  interface RangeTask {
    void run(int from, int to);
  }

  private static final int SPINS = 20_000;

  private final int threads;
  private final Worker[] workers;
  private final AtomicInteger pending = new AtomicInteger();
  private volatile Thread caller;
  private volatile int generation;
  private volatile boolean closed;
  private volatile RuntimeException failure;
  private RangeTask task;
  private int total;
  private int grain;

  /**
   * @param threads threads that share each job, the caller included
   */
  Parallel(int threads) {
    this.threads = Math.max(1, threads);
    this.workers = new Worker[this.threads - 1];
    for (int w = 0; w < workers.length; w++) {
      workers[w] = new Worker(w + 1);
      workers[w].thread.start();
    }
  }

  int threads() {
    return threads;
  }

  /**
   * Runs {@code task} over {@code [0, total)} split in as many shares as threads, each a multiple
   * of {@code grain} items (but the last).
   */
  void run(int total, int grain, RangeTask task) {
    if (threads == 1 || total <= grain) {
      task.run(0, total);
      return;
    }
    this.task = task;
    this.total = total;
    this.grain = grain;
    this.caller = Thread.currentThread();
    pending.set(workers.length);
    generation++; // publishes the job
    for (Worker worker : workers) {
      if (worker.parked) {
        LockSupport.unpark(worker.thread);
      }
    }
    runShare(0);
    for (int spin = 0; pending.get() != 0; spin++) {
      if (spin < SPINS) {
        Thread.onSpinWait();
      } else {
        LockSupport.parkNanos(this, 50_000);
      }
    }
    RuntimeException failed = failure;
    if (failed != null) {
      failure = null;
      throw failed;
    }
  }

  private void runShare(int share) {
    int from = boundary(share);
    int to = boundary(share + 1);
    if (from < to) {
      task.run(from, to);
    }
  }

  private int boundary(int share) {
    if (share >= threads) {
      return total;
    }
    int units = (total + grain - 1) / grain;
    return Math.min(total, (int) ((long) units * share / threads) * grain);
  }

  @Override
  public void close() {
    closed = true;
    for (Worker worker : workers) {
      LockSupport.unpark(worker.thread);
    }
  }

  private final class Worker implements Runnable {
    final int share;
    final Thread thread;
    volatile boolean parked;

    Worker(int share) {
      this.share = share;
      this.thread = new Thread(this, "specd-java-" + share);
      thread.setDaemon(true);
    }

    @Override
    public void run() {
      int seen = generation;
      while (!closed) {
        int spin = 0;
        while (generation == seen && !closed) {
          if (spin++ < SPINS) {
            Thread.onSpinWait();
          } else {
            parked = true;
            if (generation == seen && !closed) {
              LockSupport.park(this);
            }
            parked = false;
          }
        }
        if (closed) {
          return;
        }
        seen = generation;
        try {
          runShare(share);
        } catch (RuntimeException | Error e) {
          failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
        } finally {
          if (pending.decrementAndGet() == 0) {
            LockSupport.unpark(caller);
          }
        }
      }
    }
  }
}
