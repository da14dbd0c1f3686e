package io.specd.kernels.heads.medusa;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.specd.policies.spec.Plan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Medusa's static sparse tree: a list of rank paths ({@code [i1, i2, …]} = rank-i1 token of head 1,
 * then rank-i2 token of head 2, …) in decreasing estimated value, so that every prefix of the list
 * is itself a prefix-closed tree. Built by the Medusa recipe: from measured per-head top-i
 * accuracies {@code a[d][i]}, repeatedly add the neighbour (next sibling or first child) of the
 * tree with the largest path value {@code Π a[d][i_d]}. Immutable.
 */
public final class MedusaTree {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<int[]> paths;

  public MedusaTree(List<int[]> paths) {
    Set<String> seen = new HashSet<>();
    for (int[] path : paths) {
      if (path.length == 0) {
        throw new IllegalArgumentException("a Medusa tree path cannot be empty");
      }
      if (path.length > 1
          && !seen.contains(Arrays.toString(Arrays.copyOf(path, path.length - 1)))) {
        throw new IllegalArgumentException(
            "path "
                + Arrays.toString(path)
                + " comes before its prefix: the tree is not prefix-closed");
      }
      if (!seen.add(Arrays.toString(path))) {
        throw new IllegalArgumentException("path " + Arrays.toString(path) + " appears twice");
      }
    }
    this.paths = paths.stream().map(int[]::clone).toList();
  }

  /**
   * Builds a tree of {@code nodes} paths from per-head top-i accuracies, best value first.
   *
   * @param accuracy {@code accuracy[d][i]}: probability that the rank-i token of head d is right
   *     given the earlier depths were
   */
  public static MedusaTree calibrate(double[][] accuracy, int nodes) {
    record Candidate(int[] path, double value) {}
    PriorityQueue<Candidate> frontier =
        new PriorityQueue<>((a, b) -> Double.compare(b.value(), a.value()));
    frontier.add(new Candidate(new int[] {0}, value(accuracy, new int[] {0})));
    List<int[]> paths = new ArrayList<>();
    while (paths.size() < nodes && !frontier.isEmpty()) {
      Candidate best = frontier.poll();
      int[] path = best.path();
      paths.add(path);
      int depth = path.length - 1;
      int rank = path[depth];
      if (rank + 1 < accuracy[depth].length) { // next sibling
        int[] sibling = path.clone();
        sibling[depth] = rank + 1;
        frontier.add(new Candidate(sibling, value(accuracy, sibling)));
      }
      if (depth + 1 < accuracy.length) { // first child
        int[] child = Arrays.copyOf(path, path.length + 1);
        frontier.add(new Candidate(child, value(accuracy, child)));
      }
    }
    return new MedusaTree(paths);
  }

  /** The probability that a whole path is accepted: the product of its ranks' accuracies. */
  private static double value(double[][] accuracy, int[] path) {
    double value = 1;
    for (int d = 0; d < path.length; d++) {
      value *= accuracy[d][path[d]];
    }
    return value;
  }

  /**
   * A tree for heads whose accuracy was never measured (public checkpoints): accuracies that fall
   * with depth and rank, as Medusa's published heads show.
   */
  public static MedusaTree uncalibrated(int heads, int ranks, int nodes) {
    double[][] accuracy = new double[heads][ranks];
    for (int d = 0; d < heads; d++) {
      for (int i = 0; i < ranks; i++) {
        accuracy[d][i] = 0.6 * Math.pow(0.6, d) / Math.pow(i + 1, 1.5);
      }
    }
    return calibrate(accuracy, nodes);
  }

  /** The paths, best first. */
  public List<int[]> paths() {
    return paths.stream().map(int[]::clone).toList();
  }

  /** The deepest path's length. */
  public int depth() {
    return paths.stream().mapToInt(p -> p.length).max().orElse(0);
  }

  /** One more than the largest rank used: how many candidates each head must supply. */
  public int ranks() {
    return paths.stream().flatMapToInt(Arrays::stream).max().orElse(0) + 1;
  }

  /**
   * The paths a plan allows, best first: at most {@code nodeBudget} of them, none deeper than
   * {@code depthLimit} (the plan's depth, cut further by a stop rule), no rank beyond the plan's
   * branching. The result is prefix-closed because the list is.
   */
  public List<int[]> select(Plan plan, int depthLimit) {
    List<int[]> selected = new ArrayList<>();
    for (int[] path : paths) {
      if (selected.size() == plan.nodeBudget()) {
        break;
      }
      if (path.length <= depthLimit && Arrays.stream(path).allMatch(r -> r < plan.branching())) {
        selected.add(path);
      }
    }
    return selected;
  }

  public ArrayNode toJson() {
    ArrayNode array = JSON.createArrayNode();
    for (int[] path : paths) {
      ArrayNode p = array.addArray();
      Arrays.stream(path).forEach(p::add);
    }
    return array;
  }

  public static MedusaTree fromJson(JsonNode array) {
    List<int[]> paths = new ArrayList<>();
    for (JsonNode p : array) {
      int[] path = new int[p.size()];
      for (int i = 0; i < path.length; i++) {
        path[i] = p.get(i).asInt();
      }
      paths.add(path);
    }
    return new MedusaTree(paths);
  }
}
