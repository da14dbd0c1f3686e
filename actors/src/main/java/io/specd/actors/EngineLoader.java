package io.specd.actors;

import com.typesafe.config.Config;
import io.specd.gpu.DeviceActor;
import io.specd.gpu.DeviceSettings;
import io.specd.kernels.heads.BundledHeads;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.heads.DrafterSpec;
import io.specd.kernels.heads.HeadsBeside;
import io.specd.kernels.heads.lookup.LookupDrafter;
import io.specd.kernels.heads.lookup.LookupFirstDrafter;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.PlainDrafter;
import io.specd.policies.DraftShape;
import io.specd.policies.PolicyFactory;
import io.specd.policies.PolicySettings;
import io.specd.policies.bandit.PriorRegistry;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Turns a drafter named by a user ({@code none}, {@code lookup}, {@code medusa}, {@code
 * medusa+ngram}, {@code clover}, {@code kangaroo}, or nothing for the default) and its heads into a
 * drafter, and starts an {@link Engine} with it: what {@code specd serve}, the benchmark and the
 * tests share.
 */
public final class EngineLoader {
  /** The drafter name of plain decoding. */
  public static final String NONE = "none";

  /** The drafter that needs no heads: prompt lookup ({@link LookupDrafter}). */
  public static final String LOOKUP = LookupDrafter.NAME;

  /** Models at least this wide are memory-bound on the CPU, where drafting pays on java. */
  private static final int WIDE_MODEL = 512;

  private EngineLoader() {}

  /**
   * The drafter used when none is named: the fastest {@code specd bench} measured for the backend
   * and the model's size (docs/BENCHMARKS.md). On {@code torch}, Clover-2 (1.15–1.5× plain decoding
   * on stories260K). On {@code java}, Kangaroo with prompt lookup first for models at least 512
   * wide, which are memory-bound (on the padded 2048-wide model 1.04–1.13× Kangaroo alone greedy, a
   * tie at T = 1; Kangaroo 1.16–1.20× plain decoding), and none for narrower ones: their weights
   * sit in the caches, verifying K tokens costs nearly K decoding steps, and no drafter beats plain
   * decoding (the best, Kangaroo, runs at 0.78× on stories260K).
   */
  public static String defaultDrafter(LlamaModel model) {
    if (model.backend().name().equals("torch")) {
      return "clover";
    }
    return model.config().dim() >= WIDE_MODEL ? "kangaroo" + LookupFirstDrafter.SUFFIX : NONE;
  }

  /**
   * Loads the drafter a user asked for.
   *
   * @param drafter a drafter name, {@code none}, or null for the default drafter
   * @param heads the drafter's heads, or null for those shipped for the model
   * @param sessions how many requests may draft at once
   * @param capacity positions per request
   * @return the drafter; when the default drafter has no heads for the model, its prompt lookup
   *     part alone if it has one, else plain decoding ({@link PlainDrafter})
   * @throws IllegalArgumentException for an unknown drafter, heads without a drafter or for lookup,
   *     or a named drafter without heads
   */
  public static Drafter load(
      LlamaModel model, String drafter, Path heads, int sessions, int capacity) {
    if (drafter == null && heads != null) {
      throw new IllegalArgumentException("--heads needs --drafter to say what kind they are");
    }
    String name = drafter == null ? defaultDrafter(model) : drafter;
    if (NONE.equals(name)) {
      return new PlainDrafter(model.config());
    }
    if (LOOKUP.equals(name)) {
      if (heads != null) {
        throw new IllegalArgumentException(
            "the lookup drafter drafts from the request's own text and takes no --heads");
      }
      return new LookupDrafter(model.config());
    }
    DrafterSpec spec = DrafterSpec.parse(name);
    Optional<Path> checkpoint = heads(spec.kind(), model, heads);
    if (checkpoint.isPresent()) {
      return spec.load(model, checkpoint.get(), sessions, capacity);
    }
    if (drafter != null) {
      throw noHeads(spec.kind(), model);
    }
    return spec.lookupFirst()
        ? new LookupDrafter(model.config())
        : new PlainDrafter(model.config());
  }

  /**
   * The heads to use for a kind: the given file, else those kept beside the model file ({@code
   * FILE.heads/}, as {@code specd pad} writes them), else those shipped for the model, if any.
   */
  public static Optional<Path> heads(DrafterKind kind, LlamaModel model, Path given) {
    if (given != null) {
      return Optional.of(given);
    }
    return HeadsBeside.find(kind, model.source()).or(() -> BundledHeads.find(kind, model));
  }

  /** The error for a drafter asked for without heads. */
  public static IllegalArgumentException noHeads(DrafterKind kind, LlamaModel model) {
    return new IllegalArgumentException(
        "no "
            + kind.id()
            + " heads ship for "
            + model.source().getFileName()
            + ": train some with specd train-heads and pass --heads");
  }

  /**
   * Starts an engine that owns the model (and closes it).
   *
   * @param config settings ({@code specd.gpu}, {@code specd.session}, Akka's)
   * @param drafter a drafter name, {@code none}, or null for the default drafter
   * @param heads the drafter's heads, or null for those shipped for the model
   * @param policy the default policy of requests, or null for the drafter's
   * @param typicalAcceptance Medusa's lossy typical acceptance instead of lossless verification
   * @throws IllegalArgumentException for an unknown drafter or policy, or missing heads
   */
  public static Engine start(
      Config config,
      LlamaModel model,
      String drafter,
      Path heads,
      String policy,
      boolean typicalAcceptance) {
    DeviceSettings device = DeviceSettings.fromConfig(config);
    Drafter loaded =
        load(model, drafter, heads, device.kvSlots(), DeviceActor.contextLength(model, device));
    try {
      String name = loaded.name();
      PolicyFactory policies =
          new PolicyFactory(
              PolicySettings.defaults(DraftShape.forDrafter(name)), new PriorRegistry());
      String defaultPolicy =
          policy != null ? policy : PolicyFactory.defaultFor(name, model.backend().name());
      AcceptanceMode mode =
          typicalAcceptance ? AcceptanceMode.TYPICAL_LOSSY : AcceptanceMode.LOSSLESS;
      return Engine.start(config, model, loaded, policies, defaultPolicy, mode);
    } catch (RuntimeException e) {
      loaded.close();
      throw e;
    }
  }
}
