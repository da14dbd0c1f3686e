package io.specd.policies;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;
import org.junit.jupiter.api.Test;

class DraftShapeTest {

  @Test
  void shouldPlanAChainForAChainShape() {
    assertThat(DraftShape.chain(6).plan(3, StopRule.NONE)).isEqualTo(Plan.chain(3, StopRule.NONE));
  }

  @Test
  void shouldBudgetNodesPerDepthForATreeShape() {
    Plan plan = DraftShape.tree(4, 10, 8).plan(3, StopRule.confidence(0.6));

    assertThat(plan).isEqualTo(Plan.tree(3, 24, 10, StopRule.confidence(0.6)));
  }

  @Test
  void shouldGiveEachShippedDrafterItsShape() {
    assertThat(DraftShape.forDrafter("kangaroo")).isEqualTo(DraftShape.chain(6));
    assertThat(DraftShape.forDrafter("medusa").plan(4, StopRule.NONE).nodeBudget()).isEqualTo(16);
    assertThat(DraftShape.forDrafter("medusa+ngram")).isEqualTo(DraftShape.forDrafter("medusa"));
    assertThat(DraftShape.forDrafter("clover").isChain()).isFalse();
    assertThat(DraftShape.forDrafter("unknown")).isEqualTo(DraftShape.chain(4));
    assertThat(DraftShape.forDrafter("lookup")).isEqualTo(DraftShape.tree(8, 2, 2));
    // prompt lookup first drafts in the head drafter's shape
    assertThat(DraftShape.forDrafter("kangaroo+lookup")).isEqualTo(DraftShape.chain(6));
    assertThat(DraftShape.forDrafter("medusa+ngram+lookup"))
        .isEqualTo(DraftShape.forDrafter("medusa"));
  }

  @Test
  void shouldRejectEmptyShapes() {
    assertThatThrownBy(() -> DraftShape.tree(0, 1, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(">= 1");
  }
}
