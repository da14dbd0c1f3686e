package io.specd.kernels.heads;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.format.SafetensorsFile;
import io.specd.kernels.format.SafetensorsWriter;
import io.specd.kernels.llama.LlamaModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * A drafter checkpoint: a {@code .safetensors} file of head weights and, for specd's own format, a
 * JSON config beside it holding everything needed to use them (the drafter kind, the target's
 * fingerprint and sizes, the tree, the training record). A bare {@code .safetensors} in a public
 * layout (FasterDecoding Medusa, Kangaroo, Clover-2) loads too, without the config.
 *
 * <p>Loading is strict: {@link Reader} collects every missing or mis-shaped tensor and reports them
 * all in one {@link ModelFormatException}.
 */
public final class HeadCheckpoint {
  /** The value of {@code format} in specd's JSON configs. */
  public static final String FORMAT = "specd-heads/1";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path path;
  private final ObjectNode config;
  private final SafetensorsFile weights;

  private HeadCheckpoint(Path path, ObjectNode config, SafetensorsFile weights) {
    this.path = path;
    this.config = config;
    this.weights = weights;
  }

  /**
   * Opens a checkpoint: a specd JSON config (naming its safetensors file) or a bare safetensors.
   *
   * @throws ModelFormatException if a file is missing or unreadable
   */
  public static HeadCheckpoint open(Path path) {
    if (!Files.isRegularFile(path)) {
      throw new ModelFormatException(path, "no such head checkpoint");
    }
    if (path.getFileName().toString().endsWith(".safetensors")) {
      return new HeadCheckpoint(path, JSON.createObjectNode(), SafetensorsFile.open(path));
    }
    JsonNode root;
    try {
      root = JSON.readTree(path.toFile());
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw new ModelFormatException(
          path,
          "not a head checkpoint config: "
              + e.getOriginalMessage()
              + (at == null
                  ? ""
                  : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"),
          e);
    } catch (IOException e) {
      throw new ModelFormatException(path, "cannot read the head checkpoint config: " + e, e);
    }
    if (!(root instanceof ObjectNode object) || !FORMAT.equals(root.path("format").asText())) {
      throw new ModelFormatException(
          path, "not a head checkpoint config (expected \"format\": \"" + FORMAT + "\")");
    }
    String weightsName = root.path("weights").asText("");
    if (weightsName.isEmpty()) {
      throw new ModelFormatException(path, "the config does not name its \"weights\" file");
    }
    Path weightsPath = path.resolveSibling(weightsName);
    return new HeadCheckpoint(path, object, SafetensorsFile.open(weightsPath));
  }

  /**
   * Writes a checkpoint: {@code <json>} and the safetensors file it names, beside it.
   *
   * @param json where the config goes ({@code name.json}); weights go to {@code name.safetensors}
   * @param config kind-specific settings; {@code format} and {@code weights} are added
   */
  public static void write(Path json, ObjectNode config, SafetensorsWriter tensors)
      throws IOException {
    String base = json.getFileName().toString().replaceFirst("\\.json$", "");
    Path weightsPath = json.resolveSibling(base + ".safetensors");
    tensors.write(weightsPath);
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("weights", weightsPath.getFileName().toString());
    root.setAll(config);
    Path temporary = Files.createTempFile(json.toAbsolutePath().getParent(), base, ".partial");
    try {
      JSON.writerWithDefaultPrettyPrinter().writeValue(temporary.toFile(), root);
      Files.move(
          temporary,
          json,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  /** The target identity to record in a config written for {@code model}. */
  public static ObjectNode target(LlamaModel model) {
    ObjectNode target = JSON.createObjectNode();
    target.put("model", model.source().getFileName().toString());
    target.put("fingerprint", model.fingerprint());
    target.put("dim", model.config().dim());
    target.put("layers", model.config().layerCount());
    target.put("vocab", model.config().vocabularySize());
    return target;
  }

  public Path path() {
    return path;
  }

  /** The JSON config (empty for a bare safetensors file). */
  public JsonNode config() {
    return config;
  }

  /** The drafter kind the config declares, or null for a bare safetensors file. */
  public String kind() {
    return config.has("kind") ? config.get("kind").asText() : null;
  }

  /** The weights file. */
  public SafetensorsFile weights() {
    return weights;
  }

  /** Tensor names in the weights file. */
  public Set<String> tensorNames() {
    return weights.tensors().keySet();
  }

  /**
   * Refuses heads made for another drafter kind or another model.
   *
   * @throws ModelFormatException naming both when they differ
   */
  public void checkFor(String drafter, LlamaModel model) {
    String kind = kind();
    if (kind != null && !kind.equals(drafter)) {
      throw new ModelFormatException(
          path, "these are " + kind + " heads, not " + drafter + " heads");
    }
    JsonNode target = config.path("target");
    if (target.has("fingerprint")
        && !target.get("fingerprint").asText().equals(model.fingerprint())) {
      throw new ModelFormatException(
          path,
          "these heads were trained for "
              + target.path("model").asText("another model")
              + " (fingerprint "
              + target.get("fingerprint").asText()
              + "), not for "
              + model.source().getFileName()
              + " (fingerprint "
              + model.fingerprint()
              + ")");
    }
  }

  /** A strict reader that gathers every problem before failing. */
  public Reader reader() {
    return new Reader();
  }

  /** Reads tensors by name and expected shape, recording what is missing or mis-shaped. */
  public final class Reader {
    private final List<String> problems = new ArrayList<>();

    private Reader() {}

    /**
     * The tensor's values, or null (with a recorded problem) if it is missing or mis-shaped.
     *
     * @param name tensor name
     * @param shape expected shape
     */
    public float[] read(String name, long... shape) {
      SafetensorsFile.Entry entry = weights.tensors().get(name);
      if (entry == null) {
        problems.add("missing tensor '" + name + "'");
        return null;
      }
      if (!Arrays.equals(entry.shape(), shape)) {
        problems.add(
            "tensor '"
                + name
                + "' has shape "
                + Arrays.toString(entry.shape())
                + ", expected "
                + Arrays.toString(shape));
        return null;
      }
      return weights.readFloats(name);
    }

    /** Records a problem found by the caller. */
    public void problem(String message) {
      problems.add(message);
    }

    /** Throws one exception listing every problem, if there was any. */
    public void finish() {
      if (!problems.isEmpty()) {
        throw new ModelFormatException(
            path, "cannot load the heads: " + String.join("; ", problems));
      }
    }
  }
}
