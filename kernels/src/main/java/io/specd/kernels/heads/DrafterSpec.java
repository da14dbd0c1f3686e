package io.specd.kernels.heads;

import io.specd.kernels.heads.lookup.LookupFirstDrafter;
import io.specd.kernels.heads.medusa.MedusaDrafter;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.Drafter;
import java.nio.file.Path;

/**
 * A drafter as requests name it: a kind, for Medusa whether its drafts are refined with the
 * checkpoint's n-gram model ({@code medusa+ngram}, block-draft refinement), and whether prompt
 * lookup drafts first where the text offers a match ({@code kangaroo+lookup}, …).
 *
 * @param kind the drafter kind
 * @param refine rescore Medusa's candidate lattice with the n-gram model
 * @param lookupFirst draft by prompt lookup where it can, with the kind elsewhere
 */
public record DrafterSpec(DrafterKind kind, boolean refine, boolean lookupFirst) {
  private static final String REFINED = "+ngram";

  public DrafterSpec {
    if (refine && kind != DrafterKind.MEDUSA) {
      throw new IllegalArgumentException("only Medusa drafts can be refined with an n-gram model");
    }
  }

  /** A kind alone. */
  public static DrafterSpec of(DrafterKind kind) {
    return new DrafterSpec(kind, false, false);
  }

  /**
   * Parses {@code medusa}, {@code medusa+ngram}, {@code clover} or {@code kangaroo}, each
   * optionally followed by {@code +lookup}.
   *
   * @throws IllegalArgumentException naming the known drafters
   */
  public static DrafterSpec parse(String name) {
    boolean lookupFirst = name.endsWith(LookupFirstDrafter.SUFFIX);
    String rest =
        lookupFirst ? name.substring(0, name.length() - LookupFirstDrafter.SUFFIX.length()) : name;
    boolean refine = rest.endsWith(REFINED);
    DrafterKind kind =
        DrafterKind.of(refine ? rest.substring(0, rest.length() - REFINED.length()) : rest);
    return new DrafterSpec(kind, refine, lookupFirst);
  }

  /** The same drafter with its drafts refined by the n-gram model. */
  public DrafterSpec refined() {
    return new DrafterSpec(kind, true, lookupFirst);
  }

  /** The name, as {@link #parse} reads it and the drafter reports it. */
  public String id() {
    return kind.id() + (refine ? REFINED : "") + (lookupFirst ? LookupFirstDrafter.SUFFIX : "");
  }

  /** Loads the drafter from a checkpoint of its kind (see {@link DrafterKind#load}). */
  public Drafter load(LlamaModel model, Path checkpoint, int sessions, int capacity) {
    Drafter drafter =
        refine
            ? MedusaDrafter.load(model, checkpoint, true)
            : kind.load(model, checkpoint, sessions, capacity);
    return lookupFirst ? new LookupFirstDrafter(drafter, model.config()) : drafter;
  }
}
