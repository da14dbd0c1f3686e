package io.specd.kernels;

import io.specd.kernels.store.ModelStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * The tests' data beyond the default model (other model files, llama.cpp's tokenizer tests), found
 * through one setting: the {@code SPECD_TEST_DATA} environment variable (or the {@code
 * specd.test.data} system property), a folder holding {@code models/} and {@code tokenizer-tests/};
 * by default {@code ../shared} beside the checkout. The llama.cpp reference outputs the tests
 * compare with are small facts and ship as test resources.
 *
 * <p>A test whose data is missing fails with a message naming the setting when the setting is given
 * (as {@code .ci/run} does); without the setting and without {@code ../shared} it is skipped with
 * that message, so a fresh clone with only a model passes {@code mvn -B verify}.
 */
public final class TestData {
  /** The setting, as named in messages and the README. */
  public static final String SETTING = "SPECD_TEST_DATA";

  private TestData() {}

  /** The test-data folder the setting names (which may not exist). */
  public static Path root() {
    Optional<String> configured = configured();
    if (configured.isPresent()) {
      return Path.of(configured.get()).toAbsolutePath().normalize();
    }
    Path working = Path.of("").toAbsolutePath();
    return ModelStore.checkoutAbove(working)
        .orElse(working)
        .resolveSibling("shared")
        .toAbsolutePath()
        .normalize();
  }

  /**
   * A file or folder of the test data, e.g. {@code models/synthetic/synth-qwen2-F32.gguf}.
   *
   * @throws IllegalStateException naming the setting if it is missing
   */
  public static Path file(String relative) {
    Path path = root().resolve(relative);
    if (Files.exists(path)) {
      return path;
    }
    String missing =
        relative
            + " not found in the test data at "
            + root()
            + ": set "
            + SETTING
            + " to the folder holding models/ and tokenizer-tests/ (default: ../shared beside"
            + " the checkout)";
    if (configured().isEmpty() && !Files.isDirectory(root())) {
      Assumptions.abort(missing);
    }
    throw new IllegalStateException(missing);
  }

  private static Optional<String> configured() {
    return Optional.ofNullable(System.getProperty("specd.test.data"))
        .or(() -> Optional.ofNullable(System.getenv(SETTING)))
        .filter(value -> !value.isBlank());
  }

  /**
   * A reference output shipped with the tests, e.g. {@code llamacpp/TinyStories-656K-F32.json}: the
   * resource itself, or a temporary copy of it when it sits in a jar (another module's tests read
   * this module's test-jar).
   */
  public static Path reference(String relative) {
    URL resource = TestData.class.getResource("reference/" + relative);
    if (resource == null) {
      throw new IllegalStateException("no test resource io/specd/kernels/reference/" + relative);
    }
    try {
      if ("file".equals(resource.getProtocol())) {
        return Path.of(resource.toURI());
      }
      Path copy = Files.createTempFile("specd-reference-", "-" + Path.of(relative).getFileName());
      copy.toFile().deleteOnExit();
      try (InputStream in = resource.openStream()) {
        Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
      }
      return copy;
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the test resource " + resource, e);
    }
  }
}
