package io.specd.kernels.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * Log-probabilities are the log-softmax of the raw logits; the top tokens come most likely first.
 */
class TokenLogprobsTest {

  @Test
  void shouldBeTheLogSoftmaxOfTheRawLogitsAtTheRowsOffset() {
    float[] row = {9f, 1f, 3f, 2f, 3f, 0f};
    TokenLogprobs scored = TokenLogprobs.of(row, 1, 5, 3, 3);
    double normaliser = Math.log(Math.exp(1) + Math.exp(3) + Math.exp(2) + Math.exp(3) + 1);
    assertThat(scored.token()).isEqualTo(3);
    assertThat((double) scored.logprob()).isCloseTo(3 - normaliser, within(1e-6));
    assertThat(scored.topTokens()).containsExactly(1, 3, 2); // ties: the lower id first
    assertThat((double) scored.topLogprobs()[0]).isCloseTo(3 - normaliser, within(1e-6));
    assertThat((double) scored.topLogprobs()[2]).isCloseTo(2 - normaliser, within(1e-6));
  }

  @Test
  void shouldListNoMoreTopTokensThanTheVocabularyHas() {
    TokenLogprobs scored = TokenLogprobs.of(new float[] {0f, 0f}, 0, 2, 1, 5);
    assertThat(scored.topTokens()).containsExactly(0, 1);
    assertThat((double) scored.logprob()).isCloseTo(Math.log(0.5), within(1e-6));
    assertThat(TokenLogprobs.of(new float[] {1f, 2f}, 0, 2, 0, 0).topTokens()).isEmpty();
  }
}
