package io.specd.kernels.spec;

import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.sample.TokenLogprobs;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StageTimes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The prefill and the speculative step for a batch of sessions: after the drafter's work for the
 * whole batch ({@link Drafter#beforeProposals}) each session proposes its own tree, the target
 * verifies all of them in one forward per group of proposals that start at the same layer (ragged
 * lengths), then each session accepts and commits its path. Every session's result is the one it
 * would get alone. A session whose own part fails (its proposal, acceptance or commit) is {@link
 * Broken} alone and the others step on; a failing forward fails the whole group. Only host values
 * come out.
 */
public final class SpeculativeStep {
  private SpeculativeStep() {}

  /**
   * What one session's step produced.
   *
   * @param tokens the accepted draft tokens, then the target's next token (at least one token)
   * @param outcome what the policy learns from
   * @param times this session's share of the step's stages (the forward is the whole batch's)
   * @param logprobs the target's log-probabilities of {@code tokens}, one each (empty unless the
   *     session asked for them)
   */
  public record Stepped(
      int[] tokens, Outcome outcome, StageTimes times, List<TokenLogprobs> logprobs)
      implements Result {
    @Override
    public Stepped orThrow() {
      return this;
    }
  }

  /** One session's step: what it produced, or why it failed alone. */
  public sealed interface Result permits Stepped, Broken {
    /** The step's product; a broken session's failure is thrown. */
    Stepped orThrow();
  }

  /**
   * A session whose own part of the step failed: its state is no longer usable, the other sessions
   * of the batch are not affected.
   */
  public record Broken(RuntimeException cause) implements Result {
    @Override
    public Stepped orThrow() {
      throw cause;
    }
  }

  /**
   * Prefills new sessions' whole prompts in one forward.
   *
   * @param prompts each session's prompt tokens, in the order of {@code states}
   * @return each session's first generated token
   */
  public static int[] prefill(
      LlamaModel model, Drafter drafter, List<SessionState> states, List<int[]> prompts) {
    return prefillParts(model, drafter, states, prompts.stream().map(PromptPart::whole).toList());
  }

  /**
   * Prefills a part of each session's prompt in one forward: a prompt is prefilled whole or in
   * parts, in order, each part in a forward of its own (chunked prefill, so that a long prompt does
   * not hold up the other sessions' steps for all of its length).
   *
   * @param parts each session's next part, in the order of {@code states}
   * @return each session's first generated token, or -1 for a session whose prompt has parts left
   */
  public static int[] prefillParts(
      LlamaModel model, Drafter drafter, List<SessionState> states, Collection<PromptPart> parts) {
    List<SequenceInput> inputs = new ArrayList<>();
    Iterator<PromptPart> part = parts.iterator();
    for (SessionState state : states) {
      PromptPart p = part.next();
      inputs.add(state.prefillInput(p.prompt(), p.from(), p.to()));
    }
    ForwardResult result = model.forward(inputs, null, drafter.prefillOptions());
    int[] roots = new int[states.size()];
    part = parts.iterator();
    for (int i = 0; i < states.size(); i++) {
      PromptPart p = part.next();
      roots[i] = states.get(i).prefilled(p.prompt(), p.from(), p.to(), result.sequence(i));
    }
    return roots;
  }

  /**
   * Positions {@code [from, to)} of a prompt: what one prefill forward runs of it.
   *
   * @param prompt the whole prompt (not copied)
   */
  public record PromptPart(int[] prompt, int from, int to) {
    public PromptPart {
      if (from < 0 || from >= to || to > prompt.length) {
        throw new IllegalArgumentException(
            "no part [" + from + ", " + to + ") of a prompt of " + prompt.length + " tokens");
      }
    }

    /** The whole prompt as one part. */
    public static PromptPart whole(int[] prompt) {
      return new PromptPart(prompt, 0, prompt.length);
    }

    /** Whether this is the prompt's last part. */
    public boolean last() {
      return to == prompt.length;
    }
  }

  /**
   * One speculative step for each session: propose, verify, accept, commit.
   *
   * @param plans each session's plan, in the order of {@code states}
   */
  public static List<Result> step(
      LlamaModel model,
      Drafter drafter,
      List<SessionState> states,
      List<Plan> plans,
      AcceptanceMode mode) {
    long stepStart = System.nanoTime();
    int n = states.size();
    Proposal[] proposals = new Proposal[n];
    long[] proposeNanos = new long[n];
    // sessions whose verification starts at the same layer share one forward
    Map<Integer, List<Integer>> groups = new LinkedHashMap<>();
    Result[] results = new Result[n];
    List<ProposalRequest> requests = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      requests.add(states.get(i).proposalRequest(plans.get(i)));
    }
    // the drafting done for the whole batch counts in equal shares as each session's; a failure
    // there fails the batch, as a forward's does
    long share = System.nanoTime();
    if (n > 1) {
      drafter.beforeProposals(requests);
    }
    share = (System.nanoTime() - share) / n;
    for (int i = 0; i < n; i++) {
      long start = System.nanoTime() - share;
      try {
        proposals[i] = requests.get(i).propose();
      } catch (RuntimeException e) {
        results[i] = new Broken(e);
        continue;
      }
      proposeNanos[i] = System.nanoTime() - start;
      groups.computeIfAbsent(proposals[i].fromLayer(), k -> new ArrayList<>()).add(i);
    }
    int rows = 0; // verified by the whole batch, whatever its groups
    for (Proposal proposal : proposals) {
      rows += proposal == null ? 0 : proposal.input().size();
    }
    for (Map.Entry<Integer, List<Integer>> group : groups.entrySet()) {
      verifyAndCommit(
          model,
          drafter,
          group.getKey(),
          group.getValue(),
          states,
          plans,
          proposals,
          proposeNanos,
          rows,
          mode,
          results);
    }
    // a session waits for the whole step: the others' drafting and every group's forward too
    long stepNanos = System.nanoTime() - stepStart;
    for (int i = 0; i < n; i++) {
      if (results[i] instanceof Stepped s) {
        results[i] =
            new Stepped(
                s.tokens(),
                s.outcome().withVerifyNanos(stepNanos - proposeNanos[i]),
                s.times(),
                s.logprobs());
      }
    }
    return Arrays.asList(results);
  }

  /**
   * Verifies a group's proposals in one forward, then accepts and commits each (a forward's outputs
   * are valid until the model's next forward, so a group is finished before the next runs).
   */
  private static void verifyAndCommit(
      LlamaModel model,
      Drafter drafter,
      int fromLayer,
      List<Integer> members,
      List<SessionState> states,
      List<Plan> plans,
      Proposal[] proposals,
      long[] proposeNanos,
      int rows,
      AcceptanceMode mode,
      Result[] results) {
    List<SequenceInput> inputs = new ArrayList<>();
    for (int i : members) {
      inputs.add(proposals[i].input());
    }
    long verifyStart = System.nanoTime();
    ForwardResult result =
        model.forward(
            inputs, inputHidden(members, proposals), drafter.verifyOptions().withLayers(fromLayer));
    long verifyNanos = System.nanoTime() - verifyStart;
    for (int j = 0; j < members.size(); j++) {
      int i = members.get(j);
      ForwardResult own = result.sequence(j);
      try {
        long accepting = System.nanoTime();
        Acceptance acceptance =
            states.get(i).accept(proposals[i], new RowLogits(own, inputs.get(j).size()), mode);
        long committing = System.nanoTime();
        states.get(i).commit(proposals[i], acceptance, own);
        long done = System.nanoTime();
        StageTimes times =
            new StageTimes(proposeNanos[i], verifyNanos, committing - accepting, done - committing);
        results[i] =
            new Stepped(
                tokens(proposals[i].tree(), acceptance),
                outcome(plans.get(i), proposals[i].tree(), acceptance, times, states.size(), rows),
                times,
                states.get(i).committedLogprobs());
      } catch (RuntimeException e) {
        results[i] = new Broken(e);
      }
    }
  }

  /**
   * The residual streams entering a partial forward, every member's rows one after another: {@code
   * [Σn, dim]}; null for a full forward.
   */
  private static float[] inputHidden(List<Integer> members, Proposal[] proposals) {
    if (proposals[members.get(0)].inputHidden() == null) {
      return null;
    }
    if (members.size() == 1) {
      return proposals[members.get(0)].inputHidden();
    }
    int total = 0;
    for (int i : members) {
      total += proposals[i].inputHidden().length;
    }
    float[] all = new float[total];
    int at = 0;
    for (int i : members) {
      float[] own = proposals[i].inputHidden();
      System.arraycopy(own, 0, all, at, own.length);
      at += own.length;
    }
    return all;
  }

  private static int[] tokens(DraftTree tree, Acceptance acceptance) {
    int[] path = acceptance.path();
    int[] tokens = new int[path.length];
    for (int i = 1; i < path.length; i++) {
      tokens[i - 1] = tree.token(path[i]);
    }
    tokens[path.length - 1] = acceptance.nextToken();
    return tokens;
  }

  private static Outcome outcome(
      Plan plan,
      DraftTree tree,
      Acceptance acceptance,
      StageTimes times,
      int batchSize,
      int batchRows) {
    int[] line = tree.mainLine();
    double[] confidence = new double[line.length];
    double[] entropy = new double[line.length];
    for (int i = 0; i < line.length; i++) {
      confidence[i] = tree.topProbability(line[i]);
      entropy[i] = tree.entropy(line[i]);
    }
    int[] path = acceptance.path();
    int onLine = 0;
    while (onLine < line.length && onLine + 1 < path.length && path[onLine + 1] == line[onLine]) {
      onLine++;
    }
    return new Outcome(
        plan,
        tree.size() - 1,
        tree.maxDepth(),
        acceptance.acceptedDrafts(),
        confidence,
        entropy,
        onLine,
        times.propose(),
        times.verify() + times.accept() + times.commit(),
        batchSize,
        batchRows);
  }
}
