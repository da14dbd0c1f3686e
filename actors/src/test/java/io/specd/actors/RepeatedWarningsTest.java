package io.specd.actors;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RepeatedWarningsTest {
  private final AtomicLong now = new AtomicLong();
  private final RepeatedWarnings warnings =
      new RepeatedWarnings(2, Duration.ofSeconds(10), now::get);

  @Test
  void shouldWriteAFewPerWindowAndCountTheRestOnTheNextOneWritten() {
    assertThat(warnings.admit("failed")).isZero();
    assertThat(warnings.admit("failed")).isZero();
    assertThat(warnings.admit("failed")).isEqualTo(-1);
    assertThat(warnings.admit("failed")).isEqualTo(-1);
    assertThat(warnings.admit("other")).as("another kind").isZero();

    now.addAndGet(Duration.ofSeconds(10).toNanos());

    assertThat(warnings.admit("failed")).isEqualTo(2);
    assertThat(warnings.admit("failed")).isZero();
    assertThat(warnings.admit("failed")).isEqualTo(-1);
  }
}
