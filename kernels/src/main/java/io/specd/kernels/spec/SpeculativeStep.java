package io.specd.kernels.spec;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.LlamaForward;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.policies.spec.Outcome;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StageTimes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The prefill and the speculative step for a batch of sessions: each session proposes its own tree,
 * the target verifies all of them in one forward per group of proposals that start at the same
 * layer (ragged lengths masked), then each session accepts and commits its path. Every session's
 * result is the one it would get alone. Everything lives in the caller's step manager; only host
 * values come out.
 */
public final class SpeculativeStep {
  private SpeculativeStep() {}

  /**
   * What one session's step produced.
   *
   * @param tokens the accepted draft tokens, then the target's next token (at least one token)
   * @param outcome what the policy learns from
   * @param times this session's share of the step's stages (the forward is the whole batch's)
   */
  public record Stepped(int[] tokens, Outcome outcome, StageTimes times) {}

  /**
   * Prefills new sessions in one forward.
   *
   * @param prompts each session's prompt tokens, in the order of {@code states}
   * @return each session's first generated token
   */
  public static int[] prefill(
      LlamaModel model,
      Drafter drafter,
      List<SessionState> states,
      List<int[]> prompts,
      NDManager step) {
    List<SequenceInput> inputs = new ArrayList<>();
    for (int i = 0; i < states.size(); i++) {
      inputs.add(states.get(i).prefillInput(prompts.get(i)));
    }
    ForwardResult result =
        LlamaForward.forward(model, inputs, null, drafter.prefillOptions(), step);
    int[] roots = new int[states.size()];
    for (int i = 0; i < states.size(); i++) {
      roots[i] =
          states.get(i).prefilled(prompts.get(i), result.sequence(i, inputs.get(i).size()), step);
    }
    return roots;
  }

  /**
   * One speculative step for each session: propose, verify, accept, commit.
   *
   * @param plans each session's plan, in the order of {@code states}
   */
  public static List<Stepped> step(
      LlamaModel model,
      Drafter drafter,
      List<SessionState> states,
      List<Plan> plans,
      AcceptanceMode mode,
      NDManager step) {
    int n = states.size();
    Proposal[] proposals = new Proposal[n];
    long[] proposeNanos = new long[n];
    // sessions whose verification starts at the same layer share one forward
    Map<Integer, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      long start = System.nanoTime();
      proposals[i] = states.get(i).propose(plans.get(i), step);
      proposeNanos[i] = System.nanoTime() - start;
      groups.computeIfAbsent(proposals[i].fromLayer(), k -> new ArrayList<>()).add(i);
    }
    ForwardResult[] verifications = new ForwardResult[n];
    NodeLogits[] logits = new NodeLogits[n];
    long verifyStart = System.nanoTime();
    for (Map.Entry<Integer, List<Integer>> group : groups.entrySet()) {
      verify(
          model, drafter, group.getKey(), group.getValue(), proposals, verifications, logits, step);
    }
    long verifyNanos = System.nanoTime() - verifyStart; // CPU ops run eagerly: the forward is done
    List<Stepped> results = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long accepting = System.nanoTime();
      Acceptance acceptance = states.get(i).accept(proposals[i], logits[i], mode);
      long committing = System.nanoTime();
      states.get(i).commit(proposals[i], acceptance, verifications[i], step);
      long done = System.nanoTime();
      StageTimes times =
          new StageTimes(proposeNanos[i], verifyNanos, committing - accepting, done - committing);
      results.add(
          new Stepped(
              tokens(proposals[i].tree(), acceptance),
              outcome(plans.get(i), proposals[i].tree(), acceptance, times, n),
              times));
    }
    return results;
  }

  private static void verify(
      LlamaModel model,
      Drafter drafter,
      int fromLayer,
      List<Integer> members,
      Proposal[] proposals,
      ForwardResult[] verifications,
      NodeLogits[] logits,
      NDManager step) {
    List<SequenceInput> inputs = new ArrayList<>();
    List<NDArray> hidden = new ArrayList<>();
    for (int i : members) {
      inputs.add(proposals[i].input());
      hidden.add(proposals[i].inputHidden());
    }
    ForwardOptions options = drafter.verifyOptions().withLayers(fromLayer);
    ForwardResult result =
        LlamaForward.forward(model, inputs, inputHidden(hidden, inputs, step), options, step);
    // one argmax over the whole batch's rows serves every session's greedy acceptance
    DeviceNodeLogits.RowArgmax argmax = new DeviceNodeLogits.RowArgmax(result.logits());
    for (int j = 0; j < members.size(); j++) {
      verifications[members.get(j)] = result.sequence(j, inputs.get(j).size());
      logits[members.get(j)] = new DeviceNodeLogits(result.logits(), result.row(j, 0), argmax);
    }
  }

  /**
   * The residual streams entering a partial forward, laid out as the batch's rows: {@code [B·M,
   * dim]}, each sequence's rows padded to the longest; null for a full forward.
   */
  private static NDArray inputHidden(
      List<NDArray> hidden, List<SequenceInput> inputs, NDManager step) {
    if (hidden.get(0) == null) {
      return null;
    }
    if (hidden.size() == 1) {
      return hidden.get(0);
    }
    int longest = inputs.stream().mapToInt(SequenceInput::size).max().orElseThrow();
    List<NDArray> padded = new ArrayList<>();
    for (NDArray h : hidden) {
      long rows = h.getShape().get(0);
      padded.add(h);
      if (rows < longest) {
        padded.add(step.zeros(new Shape(longest - rows, h.getShape().get(1))));
      }
    }
    return NDArrays.concat(new NDList(padded), 0);
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
      Plan plan, DraftTree tree, Acceptance acceptance, StageTimes times, int batchSize) {
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
        batchSize);
  }
}
