package io.specd.kernels.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A persistent pool that splits a range of work items (rows of a product) across threads. The range
 * is cut into chunks that the caller and the workers claim one at a time, so a thread that is slow
 * — its core taken by another process — holds back at most one chunk while the others finish the
 * rest: waiting stays cheap when a core is busy. Workers spin briefly for the next job, then park,
 * so a step's many small jobs cost little to hand out and an idle pool costs nothing. With one
 * thread everything runs on the caller. {@link #run} allocates nothing.
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
  private static final int CHUNKS_PER_THREAD = 8;

  private final int threads;
  private final Worker[] workers;
  private final AtomicInteger nextChunk = new AtomicInteger();
  private final AtomicInteger pending = new AtomicInteger();
  private volatile Thread caller;
  private volatile int generation;
  private volatile boolean closed;
  private volatile RuntimeException failure;
  private RangeTask task;
  private int total;
  private int chunkItems;
  private int chunks;

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

  /**
   * Runs {@code task} over {@code [0, total)} in chunks whose boundaries are multiples of {@code
   * grain} items (only the last chunk may end in a partial grain).
   */
  void run(int total, int grain, RangeTask task) {
    int units = (total + grain - 1) / grain;
    if (threads == 1 || units < 2 || closed) {
      task.run(0, total);
      return;
    }
    int unitsPerChunk = Math.max(1, units / (threads * CHUNKS_PER_THREAD));
    this.task = task;
    this.total = total;
    this.chunkItems = unitsPerChunk * grain;
    this.chunks = (total + chunkItems - 1) / chunkItems;
    this.caller = Thread.currentThread();
    nextChunk.set(0);
    pending.set(workers.length);
    generation++; // publishes the job
    for (Worker worker : workers) {
      if (worker.parked) {
        LockSupport.unpark(worker.thread);
      }
    }
    try {
      runChunks();
    } catch (RuntimeException | Error e) {
      fail(e);
    }
    for (int spin = 0; pending.get() != 0; spin++) { // the workers finish their chunks first
      if (spin < SPINS) {
        Thread.onSpinWait();
      } else {
        LockSupport.parkNanos(this, 50_000);
      }
    }
    this.task = null;
    RuntimeException failed = failure;
    if (failed != null) {
      failure = null;
      throw failed;
    }
  }

  /** Threads that share each job, the caller included. */
  int threads() {
    return threads;
  }

  /**
   * The calling thread's index among those that run a job's chunks: 0 for the caller of {@link
   * #run} (or any other thread), {@code 1 … threads − 1} for the workers.
   */
  int threadIndex() {
    Thread current = Thread.currentThread();
    for (int w = 0; w < workers.length; w++) {
      if (workers[w].thread == current) {
        return w + 1;
      }
    }
    return 0;
  }

  /** Records a job's failure (the caller rethrows it) and stops everyone claiming chunks. */
  private void fail(Throwable e) {
    failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
    nextChunk.set(Integer.MAX_VALUE / 2);
  }

  /** Claims and runs chunks until none is left. */
  private void runChunks() {
    for (int c = nextChunk.getAndIncrement(); c < chunks; c = nextChunk.getAndIncrement()) {
      int from = c * chunkItems;
      task.run(from, Math.min(total, from + chunkItems));
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Worker worker : workers) {
      LockSupport.unpark(worker.thread);
    }
  }

  private final class Worker implements Runnable {
    final Thread thread;
    volatile boolean parked;

    Worker(int index) {
      this.thread = new Thread(this, "specd-java-" + index);
      thread.setDaemon(true);
    }

    @Override
    public void run() {
      int seen = 0; // the generation before any job: read here, it could already be a job's
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
          runChunks();
        } catch (RuntimeException | Error e) {
          fail(e);
        } finally {
          if (pending.decrementAndGet() == 0) {
            LockSupport.unpark(caller);
          }
        }
      }
    }
  }
}
