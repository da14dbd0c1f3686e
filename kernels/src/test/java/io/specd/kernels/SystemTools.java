package io.specd.kernels;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Programs some tests drive (Chromium, promtool, npm's packages): when one is missing, the test is
 * skipped with a message saying how to install it, so {@code mvn -B verify} passes on a fresh
 * machine; with {@code SPECD_TEST_TOOLS=required} (as {@code .ci/run} sets after installing them)
 * it fails instead, so CI never skips them.
 */
public final class SystemTools {
  /** The setting that turns a missing tool from a skip into a failure. */
  public static final String SETTING = "SPECD_TEST_TOOLS";

  private SystemTools() {}

  /** An executable on the {@code PATH}, e.g. {@code promtool}. */
  public static Path onPath(String name, String install) {
    Optional<Path> found =
        Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
            .map(dir -> Path.of(dir, name))
            .filter(Files::isExecutable)
            .findFirst();
    found.ifPresentOrElse(path -> {}, () -> missing(name + " is not on the PATH", install));
    return found.orElseThrow();
  }

  /** A file or folder a tool installs, e.g. {@code node_modules/openai}. */
  public static Path installed(Path path, String install) {
    if (!Files.exists(path)) {
      missing(path + " is missing", install);
    }
    return path;
  }

  private static void missing(String what, String install) {
    String message = what + ": " + install;
    if ("required".equals(System.getenv(SETTING))) {
      throw new IllegalStateException(message + " (" + SETTING + "=required)");
    }
    Assumptions.abort(message);
  }
}
