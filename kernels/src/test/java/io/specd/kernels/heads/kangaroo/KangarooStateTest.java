package io.specd.kernels.heads.kangaroo;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.Acceptance;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.DraftSession;
import io.specd.kernels.spec.DraftTree;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.Proposal;
import io.specd.kernels.spec.SpeculativeDecoder;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.SamplingParams;
import io.specd.policies.spec.StopRule;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/**
 * Kangaroo's adapter is given every committed position, whoever drafted the step: after a step it
 * did not draft, verified by a full forward of another drafter's tree (prompt lookup first), it
 * holds the whole accepted path's shallow states, not only the root's.
 */
class KangarooStateTest {
  private static final int TOKENS = 96;

  @Test
  void shouldHoldEveryCommittedPositionAfterStepsAnotherDrafterDrafted() {
    LlamaModel model = TestModels.loadStories260K("java");
    try (KvCachePool pool = model.newCachePool(1, 256)) {
      int[] prompt = model.tokenizer().encodePrompt("Once upon a time");
      GenerationRequest request = new GenerationRequest(prompt, TOKENS, SamplingParams.GREEDY);
      int[] expected =
          new AutoregressiveDecoder(model, pool).generate(request, TokenSink.IGNORE).tokens();
      try (Oracle drafter =
          new Oracle(TestModels.drafter("kangaroo", model, 1, pool.capacity()), expected)) {
        SpeculativeDecoder decoder =
            new SpeculativeDecoder(
                model,
                pool,
                drafter,
                () -> new StaticPolicy("static-2", Plan.chain(2, StopRule.NONE)),
                AcceptanceMode.LOSSLESS);
        assertThat(decoder.generate(request, TokenSink.IGNORE).tokens()).containsExactly(expected);
        assertThat(drafter.othersSteps).as("steps another drafter drafted").isGreaterThan(15);
        assertThat(drafter.ownSteps).as("steps Kangaroo drafted").isGreaterThan(15);
      }
    } finally {
      model.close();
    }
  }

  /**
   * Kangaroo, except that every other step verifies a full-forward chain of the next two tokens of
   * the plain output, as prompt lookup drafts; after every step it checks what the adapter holds.
   */
  private static final class Oracle implements Drafter {
    private final Drafter kangaroo;
    private final int[] expected;
    private int ownSteps;
    private int othersSteps;

    Oracle(Drafter kangaroo, int[] expected) {
      this.kangaroo = kangaroo;
      this.expected = expected;
    }

    @Override
    public String name() {
      return "oracle";
    }

    @Override
    public DraftSession open(KvCache cache) {
      DraftSession own = kangaroo.open(cache);
      return new DraftSession() {
        private int generated; // tokens of the output known: the committed ones and the root
        private int step;

        @Override
        public void prefilled(int[] prompt, int from, int to, ForwardResult result, int next) {
          own.prefilled(prompt, from, to, result, next);
          generated = 1;
        }

        @Override
        public Proposal propose(
            int root, Plan plan, SamplingParams sampling, RandomGenerator random) {
          if (++step % 2 == 0 && generated + 2 <= expected.length) {
            own.propose(root, Plan.NO_SPECULATION, sampling, random);
            DraftTree.Builder tree = DraftTree.builder(root, DraftTree.Proposals.POINT_MASS);
            int first = tree.add(0, expected[generated], 1f, 1f, 0f, null);
            tree.add(first, expected[generated + 1], 1f, 1f, 0f, null);
            othersSteps++;
            return Proposal.fullForward(tree.build(), cache);
          }
          ownSteps++;
          return own.propose(root, plan, sampling, random);
        }

        @Override
        public void accepted(Proposal proposal, Acceptance acceptance, ForwardResult verification) {
          own.accepted(proposal, acceptance, verification);
          generated += acceptance.path().length;
          assertThat(KangarooDrafter.positionsHeld(own))
              .as("positions the adapter holds after step %d", step)
              .isEqualTo(cache.length());
        }

        @Override
        public void close() {
          own.close();
        }
      };
    }

    @Override
    public ForwardOptions prefillOptions() {
      return kangaroo.prefillOptions();
    }

    @Override
    public ForwardOptions verifyOptions() {
      return kangaroo.verifyOptions();
    }

    @Override
    public void close() {
      kangaroo.close();
    }
  }
}
