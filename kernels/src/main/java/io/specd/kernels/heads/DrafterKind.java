package io.specd.kernels.heads;

import io.specd.kernels.heads.clover.CloverDrafter;
import io.specd.kernels.heads.kangaroo.KangarooDrafter;
import io.specd.kernels.heads.medusa.MedusaDrafter;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.Drafter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/** The drafters specd ships, by the name requests and checkpoints use. */
public enum DrafterKind {
  MEDUSA,
  CLOVER,
  KANGAROO;

  /** Kangaroo's exit layer when a checkpoint does not record one (public adapters). */
  public static final int DEFAULT_EXIT_LAYER = 1;

  /** The kind's name: {@code medusa}, {@code clover} or {@code kangaroo}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The kind with this name.
   *
   * @throws IllegalArgumentException naming the known kinds
   */
  public static DrafterKind of(String id) {
    return Arrays.stream(values())
        .filter(k -> k.id().equals(id))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "unknown drafter '"
                        + id
                        + "'; use one of none, lookup, medusa, medusa+ngram, clover, kangaroo (the last four"
                        + " also with +lookup)"));
  }

  /**
   * Loads a drafter of this kind from a checkpoint, strictly.
   *
   * @param sessions how many requests may draft at once (slots of the drafter's own KV cache)
   * @param capacity positions per request
   * @throws io.specd.kernels.format.ModelFormatException if the checkpoint does not fit
   */
  public Drafter load(LlamaModel model, Path checkpoint, int sessions, int capacity) {
    return switch (this) {
      case MEDUSA -> MedusaDrafter.load(model, checkpoint, false);
      case CLOVER -> CloverDrafter.load(model, checkpoint, sessions, capacity);
      case KANGAROO ->
          KangarooDrafter.load(model, checkpoint, DEFAULT_EXIT_LAYER, sessions, capacity);
    };
  }
}
