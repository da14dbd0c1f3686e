package io.specd.actors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProvenanceTest {

  @Test
  void shouldSplitTheTextByTheTokenEachPartCameFrom() {
    Provenance provenance = new Provenance();
    provenance.decoded(7, 1, "Once");
    provenance.visible("Once");
    provenance.decoded(8, 0, " upon");
    provenance.visible(" upon");

    TokenEvent.Tokens event = provenance.event();

    assertThat(event.text()).isEqualTo("Once upon");
    assertThat(event.tokenIds()).containsExactly(7, 8);
    assertThat(event.depths()).containsExactly(1, 0);
    assertThat(event.spans())
        .containsExactly(new TokenEvent.Span("Once", 1), new TokenEvent.Span(" upon", 0));
    assertThat(provenance.hasText()).isFalse();
    assertThat(provenance.hasTokens()).isFalse();
  }

  @Test
  void shouldKeepTheDepthOfHeldBackTextWhenItIsReleasedWithALaterToken() {
    Provenance provenance = new Provenance();
    provenance.decoded(1, 2, "ab\n"); // "\n" held: a stop string "\nUser:" might start
    provenance.visible("ab");
    assertThat(provenance.event().spans()).containsExactly(new TokenEvent.Span("ab", 2));

    provenance.decoded(2, 0, "Tom");
    provenance.visible("\nTom");

    assertThat(provenance.event().spans())
        .containsExactly(new TokenEvent.Span("\n", 2), new TokenEvent.Span("Tom", 0));
  }

  @Test
  void shouldGiveTheTailOfAnUnfinishedCharacterTheLastTokensDepth() {
    Provenance provenance = new Provenance();
    provenance.decoded(300, 3, "");
    provenance.decodedTail("\uFFFD");
    provenance.visible("\uFFFD");

    TokenEvent.Tokens event = provenance.event();

    assertThat(event.spans()).isEqualTo(List.of(new TokenEvent.Span("\uFFFD", 3)));
    assertThat(event.depths()).containsExactly(3);
  }

  @Test
  void shouldRefuseVisibleTextThatWasNeverDecoded() {
    Provenance provenance = new Provenance();
    provenance.decoded(1, 0, "a");
    assertThatThrownBy(() -> provenance.visible("ab")).isInstanceOf(IllegalStateException.class);
  }
}
