package io.specd.kernels.heads.medusa;

import io.specd.kernels.heads.DraftDistribution;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Block-draft refinement (Blockwise Parallel Decoding, arXiv 2404.09221): Medusa heads guess each
 * future position independently, so their top candidates form a lattice in which the best path by
 * head scores alone often repeats a token or breaks local grammar. Rescoring the lattice with an
 * n-gram model of the target's own text, {@code Σ_i (1 − α)·log q_i(y_i) + α·log P(y_i | y_{i−2},
 * y_{i−1})}, and keeping the p best paths (beam search) gives drafts that fit together; they are
 * added to the tree before the static rank paths. Greedy verification stays exact: only which
 * drafts are proposed changes. Stateless; thread-safe.
 *
 * @param ngram the n-gram model
 * @param weight α, the n-gram's share of the score, in [0, 1]
 * @param paths p, how many refined paths a draft tree gets
 */
public record LatticeRescorer(NgramModel ngram, double weight, int paths) {
  /** Defaults: α = 0.5 and 4 paths. */
  public static final double DEFAULT_WEIGHT = 0.5;

  public static final int DEFAULT_PATHS = 4;

  public LatticeRescorer {
    if (!(weight >= 0 && weight <= 1) || paths < 1) {
      throw new IllegalArgumentException(
          "refinement needs a weight in [0, 1] and at least one path, got "
              + weight
              + ", "
              + paths);
    }
  }

  private record Beam(int[] tokens, double score) {}

  /**
   * The best paths through the lattice, best first.
   *
   * @param heads per depth (index 0 = depth 1), the head's top candidates
   * @param depth path length (at most {@code heads.length})
   * @param before the token before {@code last} (-1 if none)
   * @param last the root: the token the target chose, which depth 1 follows
   * @return up to {@link #paths} token paths of length {@code depth}
   */
  public List<int[]> best(DraftDistribution[] heads, int depth, int before, int last) {
    int width = Math.max(4 * paths, 16);
    List<Beam> beams = List.of(new Beam(new int[0], 0));
    for (int d = 0; d < depth; d++) {
      DraftDistribution head = heads[d];
      List<Beam> next = new ArrayList<>();
      for (Beam beam : beams) {
        int[] t = beam.tokens();
        int previous = t.length >= 1 ? t[t.length - 1] : last;
        int beforePrevious = t.length >= 2 ? t[t.length - 2] : t.length == 1 ? last : before;
        for (int rank = 0; rank < head.size(); rank++) {
          int token = head.token(rank);
          double score =
              beam.score()
                  + (1 - weight) * Math.log(Math.max(head.probability(rank), 1e-30))
                  + weight * ngram.logProbability(beforePrevious, previous, token);
          int[] extended = java.util.Arrays.copyOf(t, t.length + 1);
          extended[t.length] = token;
          next.add(new Beam(extended, score));
        }
      }
      next.sort(Comparator.comparingDouble(b -> -b.score()));
      beams = next.subList(0, Math.min(width, next.size()));
    }
    return beams.stream().limit(paths).map(Beam::tokens).toList();
  }
}
