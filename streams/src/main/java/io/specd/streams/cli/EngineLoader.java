package io.specd.streams.cli;

import com.typesafe.config.Config;
import io.specd.actors.Engine;
import io.specd.gpu.DeviceActor;
import io.specd.gpu.DeviceSettings;
import io.specd.kernels.heads.DrafterSpec;
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

/** Starts an {@link Engine} for a loaded model and a drafter named on the command line. */
final class EngineLoader {
  private EngineLoader() {}

  /**
   * Starts an engine that owns the model (and closes it).
   *
   * @param drafter a drafter name, {@code none}, or null for the default drafter (plain decoding
   *     when no heads ship for the model)
   * @param heads the drafter's heads, or null for those shipped for the model
   * @param policy the default policy of requests, or null for the drafter's
   * @param typicalAcceptance Medusa's lossy typical acceptance instead of lossless verification
   * @throws IllegalArgumentException for an unknown drafter or policy, or missing heads
   */
  static Engine start(
      Config config,
      LlamaModel model,
      String drafter,
      Path heads,
      String policy,
      boolean typicalAcceptance) {
    DeviceSettings device = DeviceSettings.fromConfig(config);
    Drafter loaded = drafter(model, device, drafter, heads);
    try {
      String name = loaded.name();
      PolicyFactory policies =
          new PolicyFactory(
              PolicySettings.defaults(DraftShape.forDrafter(name)), new PriorRegistry());
      String defaultPolicy = policy != null ? policy : PolicyFactory.defaultFor(name);
      AcceptanceMode mode =
          typicalAcceptance ? AcceptanceMode.TYPICAL_LOSSY : AcceptanceMode.LOSSLESS;
      return Engine.start(config, model, loaded, policies, defaultPolicy, mode);
    } catch (RuntimeException e) {
      loaded.close();
      throw e;
    }
  }

  private static Drafter drafter(
      LlamaModel model, DeviceSettings device, String drafter, Path heads) {
    if (DecodingOptions.NONE.equals(drafter)) {
      return new PlainDrafter(model.config());
    }
    if (drafter == null && heads != null) {
      throw new IllegalArgumentException("--heads needs --drafter to say what kind they are");
    }
    DrafterSpec spec =
        DrafterSpec.parse(drafter == null ? DecodingOptions.DEFAULT_DRAFTER : drafter);
    Optional<Path> checkpoint = LoadedDecoder.heads(spec.kind(), model, heads);
    if (checkpoint.isEmpty()) {
      if (drafter == null) { // the default drafter has no heads for this model
        return new PlainDrafter(model.config());
      }
      throw LoadedDecoder.noHeads(spec.kind(), model);
    }
    return spec.load(
        model, checkpoint.get(), device.kvSlots(), DeviceActor.contextLength(model, device));
  }
}
