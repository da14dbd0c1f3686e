package io.specd.kernels.heads.medusa;

import io.specd.kernels.format.SafetensorsFile;
import io.specd.kernels.format.SafetensorsWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A token trigram model with Witten–Bell interpolation, counted on the self-distillation corpus
 * (the target's own text), so that it approximates the target's local statistics. Used to rescore
 * the lattice of Medusa head candidates (Blockwise Parallel Decoding's draft refinement, arXiv
 * 2404.09221). Immutable and thread-safe once built.
 *
 * <p>{@code P(w | u v) = (c(u v w) + T(u v) · P(w | v)) / (c(u v ·) + T(u v))}, where {@code T} is
 * the number of distinct tokens seen after a context, down to an add-one unigram.
 *
 * <p>Checkpoint tensors (int32): {@code ngram.unigram [V]} counts, {@code ngram.bigram [N, 3]} rows
 * {@code (v, w, count)} and {@code ngram.trigram [N, 4]} rows {@code (u, v, w, count)}.
 */
public final class NgramModel {
  static final String UNIGRAM = "ngram.unigram";
  static final String BIGRAM = "ngram.bigram";
  static final String TRIGRAM = "ngram.trigram";

  private final int[] unigram;
  private final long total;
  private final Map<Long, Followers> bigram = new HashMap<>(); // by last token
  private final Map<Long, Followers> trigram = new HashMap<>(); // by (before, last)

  /** The tokens seen after one context, with their counts. */
  private static final class Followers {
    final Map<Integer, Integer> counts = new HashMap<>();
    long total;

    void add(int token, int count) {
      counts.merge(token, count, Integer::sum);
      total += count;
    }
  }

  private NgramModel(int[] unigram, int[] bigramRows, int[] trigramRows) {
    this.unigram = unigram.clone();
    long sum = 0;
    for (int c : unigram) {
      sum += c;
    }
    this.total = sum;
    for (int i = 0; i < bigramRows.length; i += 3) {
      bigram
          .computeIfAbsent(key(bigramRows[i]), k -> new Followers())
          .add(bigramRows[i + 1], bigramRows[i + 2]);
    }
    for (int i = 0; i < trigramRows.length; i += 4) {
      trigram
          .computeIfAbsent(key(trigramRows[i], trigramRows[i + 1]), k -> new Followers())
          .add(trigramRows[i + 2], trigramRows[i + 3]);
    }
  }

  /** Counts every unigram, bigram and trigram of the sequences. */
  public static NgramModel count(List<int[]> sequences, int vocab) {
    int[] unigram = new int[vocab];
    Map<Long, Integer> bigrams = new HashMap<>();
    Map<Long, Integer> trigrams = new HashMap<>();
    for (int[] s : sequences) {
      for (int i = 0; i < s.length; i++) {
        unigram[s[i]]++;
        if (i >= 1) {
          bigrams.merge((long) s[i - 1] * vocab + s[i], 1, Integer::sum);
        }
        if (i >= 2) {
          trigrams.merge(((long) s[i - 2] * vocab + s[i - 1]) * vocab + s[i], 1, Integer::sum);
        }
      }
    }
    int[] bigramRows = new int[3 * bigrams.size()];
    int at = 0;
    for (Map.Entry<Long, Integer> e : bigrams.entrySet()) {
      bigramRows[at++] = (int) (e.getKey() / vocab);
      bigramRows[at++] = (int) (e.getKey() % vocab);
      bigramRows[at++] = e.getValue();
    }
    int[] trigramRows = new int[4 * trigrams.size()];
    at = 0;
    for (Map.Entry<Long, Integer> e : trigrams.entrySet()) {
      long k = e.getKey();
      trigramRows[at++] = (int) (k / vocab / vocab);
      trigramRows[at++] = (int) (k / vocab % vocab);
      trigramRows[at++] = (int) (k % vocab);
      trigramRows[at++] = e.getValue();
    }
    return new NgramModel(unigram, bigramRows, trigramRows);
  }

  /** Whether a checkpoint carries an n-gram model. */
  public static boolean presentIn(SafetensorsFile file) {
    return file.tensors().containsKey(UNIGRAM);
  }

  /** Reads the model from a checkpoint that carries one. */
  public static NgramModel read(SafetensorsFile file) {
    return new NgramModel(file.readInts(UNIGRAM), file.readInts(BIGRAM), file.readInts(TRIGRAM));
  }

  /** Writes the counts into a checkpoint. */
  public void export(SafetensorsWriter out) {
    out.putInts(UNIGRAM, unigram.clone(), unigram.length);
    int[] bigramRows = rows(bigram, 1);
    out.putInts(BIGRAM, bigramRows, bigramRows.length / 3, 3);
    int[] trigramRows = rows(trigram, 2);
    out.putInts(TRIGRAM, trigramRows, trigramRows.length / 4, 4);
  }

  private static int[] rows(Map<Long, Followers> table, int contextLength) {
    int entries = table.values().stream().mapToInt(f -> f.counts.size()).sum();
    int[] out = new int[(contextLength + 2) * entries];
    int at = 0;
    for (Map.Entry<Long, Followers> context : table.entrySet()) {
      for (Map.Entry<Integer, Integer> follower : context.getValue().counts.entrySet()) {
        if (contextLength == 2) {
          out[at++] = (int) (context.getKey() >>> 32);
        }
        out[at++] = (int) (long) context.getKey();
        out[at++] = follower.getKey();
        out[at++] = follower.getValue();
      }
    }
    return out;
  }

  /** The vocabulary size. */
  public int vocabularySize() {
    return unigram.length;
  }

  /**
   * {@code log P(token | before, last)}.
   *
   * @param before the token before {@code last}, or -1 if there is none
   * @param last the previous token, or -1 if there is none
   */
  public double logProbability(int before, int last, int token) {
    double p = (unigram[token] + 1.0) / (total + unigram.length);
    if (last >= 0) {
      p = interpolate(p, bigram, key(last), token);
      if (before >= 0) {
        p = interpolate(p, trigram, key(before, last), token);
      }
    }
    return Math.log(p);
  }

  private static double interpolate(
      double lower, Map<Long, Followers> table, long context, int token) {
    Followers followers = table.get(context);
    if (followers == null) {
      return lower;
    }
    int distinct = followers.counts.size();
    int seen = followers.counts.getOrDefault(token, 0);
    return (seen + distinct * lower) / (followers.total + distinct);
  }

  private static long key(int last) {
    return last;
  }

  private static long key(int before, int last) {
    return ((long) before << 32) | (last & 0xffffffffL);
  }
}
