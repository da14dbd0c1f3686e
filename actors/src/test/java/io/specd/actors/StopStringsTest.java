package io.specd.actors;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringsTest {

  @Test
  void shouldCutTheTextBeforeAStopStringSplitAcrossChunks() {
    StopStrings stops = new StopStrings(List.of("END"));
    assertThat(stops.accept("once E")).isEqualTo("once ");
    assertThat(stops.accept("N")).isEmpty();
    assertThat(stops.accept("D more")).isEmpty();
    assertThat(stops.stopped()).isTrue();
    assertThat(stops.flush()).isEmpty();
  }

  @Test
  void shouldReleaseHeldTextThatTurnsOutNotToBeAStopString() {
    StopStrings stops = new StopStrings(List.of("END"));
    assertThat(stops.accept("the E")).isEqualTo("the ");
    assertThat(stops.accept("nd")).isEqualTo("End");
    assertThat(stops.accept("and E")).isEqualTo("and ");
    assertThat(stops.stopped()).isFalse();
    assertThat(stops.flush()).isEqualTo("E");
  }

  @Test
  void shouldStopAtTheEarliestOfSeveralStopStrings() {
    StopStrings stops = new StopStrings(List.of("dog", "."));
    assertThat(stops.accept("a cat. a dog")).isEqualTo("a cat");
    assertThat(stops.stopped()).isTrue();
  }

  @Test
  void shouldPassEverythingWithoutStopStrings() {
    StopStrings stops = new StopStrings(List.of());
    assertThat(stops.accept("abc")).isEqualTo("abc");
    assertThat(stops.flush()).isEmpty();
  }
}
