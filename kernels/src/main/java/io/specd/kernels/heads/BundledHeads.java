package io.specd.kernels.heads;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.specd.kernels.llama.LlamaModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The head checkpoints that ship inside specd, trained for the default model with {@code specd
 * train-heads} (the commands are in {@code docs/TRAINING.md}). They live on the class path under
 * {@code io/specd/kernels/heads/bundled/<fingerprint>/<kind>.json}, keyed by the weights'
 * fingerprint so that a renamed copy of the model still finds them and another model never does. A
 * checkpoint is copied to a temporary directory when first asked for (safetensors files are read
 * from disk).
 */
public final class BundledHeads {
  private static final String ROOT = "/io/specd/kernels/heads/bundled/";
  private static final ObjectMapper JSON = new ObjectMapper();

  private BundledHeads() {}

  /**
   * The bundled checkpoint of a kind for a model, if specd ships one.
   *
   * @return the checkpoint config's path, extracted to a temporary directory
   */
  public static Optional<Path> find(DrafterKind kind, LlamaModel model) {
    return find(kind, model.fingerprint());
  }

  /**
   * The bundled checkpoint of a kind for the weights with this fingerprint, if specd ships one.
   *
   * @return the checkpoint config's path, extracted to a temporary directory
   */
  public static Optional<Path> find(DrafterKind kind, String fingerprint) {
    String base = ROOT + fingerprint + "/" + kind.id();
    try (InputStream config = BundledHeads.class.getResourceAsStream(base + ".json")) {
      if (config == null) {
        return Optional.empty();
      }
      byte[] json = config.readAllBytes();
      JsonNode root = JSON.readTree(json);
      String weights = root.path("weights").asText();
      Path directory = Files.createTempDirectory("specd-heads-");
      directory.toFile().deleteOnExit();
      Path configPath = directory.resolve(kind.id() + ".json");
      Files.write(configPath, json);
      configPath.toFile().deleteOnExit();
      Path weightsPath = directory.resolve(weights);
      try (InputStream in =
          BundledHeads.class.getResourceAsStream(ROOT + fingerprint + "/" + weights)) {
        if (in == null) {
          throw new IllegalStateException("bundled heads " + base + " lack their " + weights);
        }
        Files.copy(in, weightsPath);
      }
      weightsPath.toFile().deleteOnExit();
      return Optional.of(configPath);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the bundled " + kind.id() + " heads", e);
    }
  }
}
