package io.specd.policies;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.policies.bandit.PriorRegistry;
import io.specd.policies.spec.DraftContext;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PolicyFactoryTest {
  private static final DraftContext CONTEXT = new DraftContext("medusa", 0, 0, 1);

  private final PolicyFactory medusa =
      new PolicyFactory(PolicySettings.defaults(DraftShape.tree(4, 10, 8)), new PriorRegistry());

  @ParameterizedTest
  @ValueSource(strings = {"none", "static-4", "confidence", "adaedl", "tree", "bandit"})
  void shouldNamePoliciesAsRequested(String name) {
    assertThat(medusa.create(name, 1).name()).isEqualTo(name);
  }

  @Test
  void shouldNotSpeculateUnderNone() {
    assertThat(medusa.create("none", 1).plan(CONTEXT)).isEqualTo(Plan.NO_SPECULATION);
  }

  @Test
  void shouldDraftStaticTreesWithTheShapesBudget() {
    assertThat(medusa.create("static-2", 1).plan(CONTEXT))
        .isEqualTo(Plan.tree(2, 16, 10, StopRule.NONE));
    assertThat(medusa.create("static", 1).name()).isEqualTo("static-4");
  }

  @Test
  void shouldExitOnKangarooConfidenceByDefault() {
    Plan plan = medusa.create("confidence", 1).plan(CONTEXT);

    assertThat(plan.stop()).isEqualTo(StopRule.confidence(0.6));
    assertThat(plan.maxDepth()).isEqualTo(4);
  }

  @Test
  void shouldStopOnTheEntropyBoundUnderAdaEdl() {
    Plan plan = medusa.create("adaedl", 1).plan(CONTEXT);

    assertThat(plan.stop()).isEqualTo(StopRule.entropy(0.5, 0.2));
  }

  @Test
  void shouldCreateAFreshPolicyPerRequest() {
    DraftPolicy first = medusa.create("adaedl", 1);

    assertThat(medusa.create("adaedl", 1)).isNotSameAs(first);
  }

  @ParameterizedTest
  @ValueSource(strings = {"static-0", "static-x", "static-", "greedy", ""})
  void shouldRejectUnknownNamesListingTheKnownOnes(String name) {
    assertThatThrownBy(() -> medusa.create(name, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("static-N")
        .hasMessageContaining("bandit");
  }

  @ParameterizedTest
  @ValueSource(strings = {"static-5", "static-9999"})
  void shouldRejectStaticDraftsDeeperThanTheDrafterPlans(String name) {
    assertThatThrownBy(() -> medusa.check(name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("static-1 to static-4");
    assertThatThrownBy(() -> medusa.create(name, 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theDefaultShouldBeTheGoodputPlannerOnJavaAndTheMeasuredStaticShapesOnTorch() {
    for (String drafter : new String[] {"medusa", "medusa+ngram", "clover", "kangaroo"}) {
      assertThat(PolicyFactory.defaultFor(drafter, "java")).as(drafter).isEqualTo("tree");
    }
    assertThat(PolicyFactory.defaultFor("clover", "torch")).isEqualTo("static-3");
    assertThat(PolicyFactory.defaultFor("medusa", "torch")).isEqualTo("static-2");
    assertThat(PolicyFactory.defaultFor("kangaroo", "torch")).isEqualTo("confidence");
    assertThat(PolicyFactory.defaultFor("none", "java")).isEqualTo("none");
    assertThat(PolicyFactory.defaultFor("none", "torch")).isEqualTo("none");
  }
}
