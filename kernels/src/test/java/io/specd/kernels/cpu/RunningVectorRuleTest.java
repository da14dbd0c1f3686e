package io.specd.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorMath}'s rule, checked on every vector kernel's source: a loop's running vector is
 * the argument of the JDK's {@code add}, {@code max} and the like, never their receiver ({@code
 * sums = sums.add(e)}). Breaking it left C2 free to run a loop on the Vector API's allocating
 * fallback for good, in some processes only (8 runs of 13 of the allocation tests), so a test that
 * runs the kernels cannot be relied on to catch it.
 */
class RunningVectorRuleTest {
  private static final Pattern RUNNING_RECEIVER =
      Pattern.compile(
          "\\b(\\w+)\\s*=\\s*\\1\\s*\\.\\s*(add|sub|mul|div|max|min|fma|neg|abs|lanewise|blend)\\(");

  @Test
  void noRunningVectorShouldBeAReceiver() throws IOException {
    List<String> breaches = new ArrayList<>();
    try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
      sources
          .filter(path -> path.toString().endsWith(".java"))
          .forEach(path -> breaches.addAll(breaches(path)));
    }
    assertThat(breaches).isEmpty();
  }

  @Test
  void theCheckShouldSeeABreach() {
    assertThat(RUNNING_RECEIVER.matcher("      sums = sums.add(e);").find()).isTrue();
    assertThat(RUNNING_RECEIVER.matcher("      sums = e.add(sums);").find()).isFalse();
  }

  private static List<String> breaches(Path source) {
    try {
      String text = Files.readString(source);
      List<String> found = new ArrayList<>();
      if (!text.contains("jdk.incubator.vector")) {
        return found;
      }
      Matcher matcher = RUNNING_RECEIVER.matcher(text);
      while (matcher.find()) {
        int line = text.substring(0, matcher.start()).split("\n", -1).length;
        found.add(source + ":" + line + ": " + matcher.group());
      }
      return found;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
