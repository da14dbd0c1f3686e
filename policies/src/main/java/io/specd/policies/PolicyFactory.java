package io.specd.policies;

import io.specd.policies.adaedl.AdaEdlPolicy;
import io.specd.policies.bandit.ArmCatalog;
import io.specd.policies.bandit.BanditPolicy;
import io.specd.policies.bandit.PriorRegistry;
import io.specd.policies.budget.BudgetMemories;
import io.specd.policies.budget.BudgetPolicy;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.DraftPolicy;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a new policy for each request by name, for one drafter. The names, which are also what
 * {@link DraftPolicy#name()} reports (and so what {@code specd bench --json} prints):
 *
 * <ul>
 *   <li>{@code none}: never speculate (plain decoding through the speculative path);
 *   <li>{@code static-N}: always draft N deep in the drafter's shape, {@code N × nodesPerDepth}
 *       nodes, no early stop ({@code static} alone means the shape's maximum depth);
 *   <li>{@code confidence}: Kangaroo's confidence exit, draft to the maximum depth and stop
 *       expanding below η (0.6 by default);
 *   <li>{@code adaedl}: the entropy-bound exit with λ adapted online ({@link AdaEdlPolicy});
 *   <li>{@code tree}: the goodput planner: each step the depth and node budget, or none, that
 *       maximise expected committed tokens per second, from acceptance per depth and measured costs
 *       ({@link BudgetPolicy}), starting from what earlier requests learnt;
 *   <li>{@code bandit}: the reinforcement learner over whole plans ({@link BanditPolicy}).
 * </ul>
 *
 * <p>Thread-safe: {@link #create} may be called concurrently; bandit policies share their priors
 * through the registry given here, goodput planners through this factory's {@link BudgetMemories}.
 */
public final class PolicyFactory {
  /** The policy names {@link #create} accepts; {@code N} stands for a positive depth. */
  public static final List<String> NAMES =
      List.of("none", "static-N", "confidence", "adaedl", "tree", "bandit");

  private static final String STATIC = "static";
  private static final Pattern STATIC_DEPTH = Pattern.compile("static-([1-9][0-9]{0,3})");

  private final PolicySettings settings;
  private final PriorRegistry priors;
  private final ArmCatalog arms;
  private final BudgetMemories budgets = new BudgetMemories();

  /**
   * @param settings the drafter's shape and every policy's tuning
   * @param priors the bandit's priors shared across requests (one registry per engine)
   */
  public PolicyFactory(PolicySettings settings, PriorRegistry priors) {
    this.settings = settings;
    this.priors = priors;
    this.arms = ArmCatalog.from(settings.shape());
  }

  /**
   * A new policy for one request.
   *
   * @param name one of {@link #NAMES}
   * @param seed seed of the policy's random choices (used by {@code bandit})
   * @throws IllegalArgumentException for an unknown name or one {@link #check} refuses
   */
  public DraftPolicy create(String name, long seed) {
    check(name);
    DraftShape shape = settings.shape();
    return switch (name) {
      case "none" -> new StaticPolicy("none", Plan.NO_SPECULATION);
      case STATIC -> staticPolicy(shape.maxDepth());
      case "confidence" ->
          new StaticPolicy(
              "confidence",
              shape.plan(shape.maxDepth(), StopRule.confidence(settings.confidenceThreshold())));
      case "adaedl" -> new AdaEdlPolicy(shape, settings.adaEdl());
      case "tree" -> new BudgetPolicy(shape, settings.budget(), budgets);
      case "bandit" -> new BanditPolicy(arms, priors, settings.bandit(), seed);
      default -> staticPolicy(staticDepth(name));
    };
  }

  /**
   * The policy a drafter uses when a request names none: the fastest by {@code specd bench} across
   * workloads (docs/BENCHMARKS.md). On the {@code java} backend the goodput planner ({@code tree})
   * for every drafter: it drafts what pays on a memory-bound model and stops drafting where nothing
   * does (a cache-resident model, hot sampling). On {@code torch}, whose per-op costs make trees
   * nearly free, the static shapes measured fastest there: Clover-2 3 deep, Medusa 2 deep, Kangaroo
   * to its confidence exit. Plain decoding ({@code none}) never speculates.
   *
   * @param drafter the drafter's name
   * @param backend the compute backend's name ({@code java} or {@code torch})
   */
  public static String defaultFor(String drafter, String backend) {
    if (drafter.equals("none")) {
      return "none";
    }
    if (backend.equals("java")) {
      return "tree";
    }
    return switch (DraftShape.headDrafter(drafter)) {
      case "clover" -> "static-3";
      case "medusa", "medusa+ngram" -> "static-2";
      case "kangaroo" -> "confidence";
      default -> STATIC;
    };
  }

  /**
   * Checks a policy name without building anything or knowing the drafter (a command line checks
   * its options before the model loads).
   *
   * @throws IllegalArgumentException for an unknown name, listing the known ones
   */
  public static void checkKnown(String name) {
    if (!List.of("none", STATIC, "confidence", "adaedl", "tree", "bandit").contains(name)) {
      staticDepth(name);
    }
  }

  /**
   * Checks a policy name for this drafter: known, and {@code static-N} no deeper than the drafter's
   * shape ({@link DraftShape#maxDepth()}), so a client cannot make every step draft thousands of
   * tokens.
   *
   * @throws IllegalArgumentException naming the problem and the allowed values
   */
  public void check(String name) {
    checkKnown(name);
    int maxDepth = settings.shape().maxDepth();
    if (STATIC_DEPTH.matcher(name).matches() && staticDepth(name) > maxDepth) {
      throw new IllegalArgumentException(
          "policy '"
              + name
              + "' drafts deeper than this drafter plans; use static-1 to static-"
              + maxDepth);
    }
  }

  private DraftPolicy staticPolicy(int depth) {
    DraftShape shape = settings.shape();
    return StaticPolicy.of(depth, shape.nodes(depth), shape.branching());
  }

  private static int staticDepth(String name) {
    Matcher matcher = STATIC_DEPTH.matcher(name);
    if (!matcher.matches()) {
      throw new IllegalArgumentException(
          "unknown policy '" + name + "'; use one of " + String.join(", ", NAMES));
    }
    return Integer.parseInt(matcher.group(1));
  }
}
