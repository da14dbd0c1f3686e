package io.specd.kernels.heads.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The n-gram index finds exactly the occurrences a scan of the text finds, latest first. */
class ContextIndexTest {

  @Test
  void shouldFindEveryOccurrenceOfTheLastTokensLatestFirstAsAScanDoes() {
    Random random = new Random(3);
    int capacity = 600;
    ContextIndex index = new ContextIndex(capacity);
    int[] text = new int[capacity];
    for (int length = 0; length < capacity; length++) {
      int next = random.nextInt(5); // few distinct tokens: many matches, and bucket collisions
      for (int order = 1; order <= ContextIndex.MAX_ORDER; order++) {
        List<Integer> found = new ArrayList<>();
        for (int end = index.latest(order, next); end >= 0; end = index.earlier(order, next, end)) {
          found.add(end);
        }
        assertThat(found)
            .as("ends of the %d-gram before %d at length %d", order, next, length)
            .isEqualTo(scan(text, length, order, next));
      }
      index.append(next);
      text[length] = next;
    }
    assertThat(index.length()).isEqualTo(capacity);
    assertThatThrownBy(() -> index.append(1)).hasMessageContaining("full at 600 tokens");
  }

  @Test
  void shouldContinueAMatchWithTheTextAfterItAndRepeatItsPeriodPastTheEnd() {
    ContextIndex index = new ContextIndex(16);
    for (int token : new int[] {7, 1, 2, 3, 1, 2}) {
      index.append(token);
    }
    // the text "7 1 2 3 1 2" followed by 3: "2 3" last ended at position 3
    int end = index.latest(2, 3);
    assertThat(end).isEqualTo(3);
    int[] following = new int[7];
    for (int i = 0; i < following.length; i++) {
      following[i] = index.following(end, 3, i);
    }
    // after position 3 come 1, 2 and the 3 itself, then the period of 3 repeats
    assertThat(following).containsExactly(1, 2, 3, 1, 2, 3, 1);
    assertThat(index.earlier(2, 3, end)).isEqualTo(-1);
    assertThat(index.latest(3, 3)).as("1 2 3").isEqualTo(3);
    assertThat(index.latest(4, 3)).as("3 1 2 3: 7 comes before 1 2 3").isEqualTo(-1);
  }

  /**
   * Where the n-gram (the text's last {@code order - 1} tokens, then {@code next}) ends, latest
   * first.
   */
  private static List<Integer> scan(int[] text, int length, int order, int next) {
    List<Integer> ends = new ArrayList<>();
    if (order > length + 1) {
      return ends;
    }
    for (int end = length - 1; end >= order - 1; end--) {
      boolean match = text[end] == next;
      for (int i = 1; i < order && match; i++) {
        match = text[end - i] == text[length - i];
      }
      if (match) {
        ends.add(end);
      }
    }
    return ends;
  }
}
