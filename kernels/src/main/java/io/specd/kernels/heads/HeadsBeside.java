package io.specd.kernels.heads;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Head checkpoints kept beside a model file: for {@code FILE.gguf}, the directory {@code
 * FILE.heads/} holding {@code <kind>.json} and its weights, in specd's format. {@code specd pad}
 * writes the padded model's heads there, so the model finds its drafters without flags.
 */
public final class HeadsBeside {
  private static final String MODEL_EXTENSION = ".gguf";
  private static final String DIRECTORY_EXTENSION = ".heads";

  private HeadsBeside() {}

  /**
   * The checkpoint config of a kind beside a model file, if there is one.
   *
   * @param modelFile the model's file ({@code FILE.gguf})
   * @return {@code FILE.heads/<kind>.json} when it exists
   */
  public static Optional<Path> find(DrafterKind kind, Path modelFile) {
    Path config = directory(modelFile).resolve(kind.id() + ".json");
    return Files.isRegularFile(config) ? Optional.of(config) : Optional.empty();
  }

  /** The directory of a model file's heads: {@code FILE.heads} beside {@code FILE.gguf}. */
  public static Path directory(Path modelFile) {
    String name = modelFile.getFileName().toString();
    String base =
        name.endsWith(MODEL_EXTENSION)
            ? name.substring(0, name.length() - MODEL_EXTENSION.length())
            : name;
    return modelFile.resolveSibling(base + DIRECTORY_EXTENSION);
  }
}
