package io.specd.kernels.heads;

import io.specd.kernels.heads.medusa.MedusaDrafter;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.Drafter;
import java.nio.file.Path;

/**
 * A drafter as requests name it: a kind, and for Medusa whether its drafts are refined with the
 * checkpoint's n-gram model ({@code medusa+ngram}, block-draft refinement).
 *
 * @param kind the drafter kind
 * @param refine rescore Medusa's candidate lattice with the n-gram model
 */
public record DrafterSpec(DrafterKind kind, boolean refine) {
  private static final String REFINED = "+ngram";

  public DrafterSpec {
    if (refine && kind != DrafterKind.MEDUSA) {
      throw new IllegalArgumentException("only Medusa drafts can be refined with an n-gram model");
    }
  }

  /**
   * Parses {@code medusa}, {@code medusa+ngram}, {@code clover} or {@code kangaroo}.
   *
   * @throws IllegalArgumentException naming the known drafters
   */
  public static DrafterSpec parse(String name) {
    boolean refine = name.endsWith(REFINED);
    DrafterKind kind =
        DrafterKind.of(refine ? name.substring(0, name.length() - REFINED.length()) : name);
    return new DrafterSpec(kind, refine);
  }

  /** The name, as {@link #parse} reads it and the drafter reports it. */
  public String id() {
    return kind.id() + (refine ? REFINED : "");
  }

  /** Loads the drafter from a checkpoint of its kind (see {@link DrafterKind#load}). */
  public Drafter load(LlamaModel model, Path checkpoint, int sessions, int capacity) {
    return refine
        ? MedusaDrafter.load(model, checkpoint, true)
        : kind.load(model, checkpoint, sessions, capacity);
  }
}
