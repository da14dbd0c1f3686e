package io.specd.policies.bandit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.policies.DraftShape;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;
import java.util.List;
import org.junit.jupiter.api.Test;

class ArmCatalogTest {

  @Test
  void shouldOfferNoSpeculationDepthsAndThresholdsForAChain() {
    ArmCatalog arms = ArmCatalog.from(DraftShape.chain(6));

    assertThat(arms.arms())
        .containsExactly(
            Plan.NO_SPECULATION,
            Plan.chain(1, StopRule.NONE),
            Plan.chain(2, StopRule.NONE),
            Plan.chain(3, StopRule.NONE),
            Plan.chain(4, StopRule.NONE),
            Plan.chain(6, StopRule.NONE),
            Plan.chain(6, StopRule.confidence(0.6)),
            Plan.chain(6, StopRule.confidence(0.85)));
  }

  @Test
  void shouldAddNarrowTreesForWideShapes() {
    ArmCatalog arms = ArmCatalog.from(DraftShape.tree(4, 10, 8));

    assertThat(arms.size()).isEqualTo(11);
    assertThat(arms.indexOf(Plan.tree(4, 8, 10, StopRule.NONE))).isPositive();
    assertThat(arms.indexOf(Plan.tree(4, 32, 10, StopRule.NONE))).isPositive();
    assertThat(arms.indexOf(Plan.chain(5, StopRule.NONE))).isEqualTo(-1);
  }

  @Test
  void shouldRejectDuplicateArms() {
    assertThatThrownBy(() -> new ArmCatalog(List.of(Plan.NO_SPECULATION, Plan.NO_SPECULATION)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("distinct");
  }
}
