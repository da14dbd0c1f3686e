package io.specd.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.specd.kernels.cpu.JavaBackend;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.PlainDrafter;
import io.specd.kernels.spec.SpeculativeStep;
import io.specd.kernels.store.ModelStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.ObjLongConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The device's warm-up request on the real model: it steps, reports, and gives its cache back. */
class DeviceWarmUpTest {
  private static LlamaModel model;

  @BeforeAll
  static void load() {
    Optional<Path> path = ModelStore.standard().findLocal();
    assumeTrue(path.isPresent(), "stories260K.gguf is not available");
    model = LlamaModel.load(path.get(), new JavaBackend(1));
  }

  @AfterAll
  static void close() {
    if (model != null) {
      model.close();
    }
  }

  private static int warmUp(
      KvCachePool pool, int steps, ObjLongConsumer<List<SpeculativeStep.Result>> stepRan) {
    return DeviceWarmUp.run(
        model, new PlainDrafter(model.config()), pool, AcceptanceMode.LOSSLESS, steps, stepRan);
  }

  @Test
  void shouldRunItsStepsAndFreeTheCache() {
    List<Long> times = new ArrayList<>();
    try (KvCachePool pool = model.newCachePool(2, 256)) {
      int ran =
          warmUp(
              pool,
              12,
              (results, nanos) -> {
                assertThat(results).hasSize(1);
                results.get(0).orThrow();
                times.add(nanos);
              });

      assertThat(ran).isEqualTo(12);
      assertThat(times).hasSize(12).allMatch(nanos -> nanos > 0);
      assertThat(pool.freeSlots()).isEqualTo(2);
    }
  }

  @Test
  void shouldStopWhenTheCacheIsFull() {
    try (KvCachePool pool = model.newCachePool(1, 12)) {
      int ran = warmUp(pool, 100, (results, nanos) -> {});

      assertThat(ran).isBetween(1, 11);
      assertThat(pool.freeSlots()).isEqualTo(1);
    }
  }

  @Test
  void shouldDoNothingWithoutSteps() {
    try (KvCachePool pool = model.newCachePool(1, 64)) {
      assertThat(warmUp(pool, 0, (results, nanos) -> {})).isZero();
    }
  }
}
