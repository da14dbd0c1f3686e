package io.specd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.store.ModelStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code specd serve} as its own process, stopped the way service managers stop it. */
class ServeProcessTest {

  @Test
  void aSigtermShouldShutDownCleanlyWithExitCodeZero() throws Exception {
    Path model = ModelStore.standard().findLocal().orElseThrow();
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process serve =
        new ProcessBuilder(
                List.of(
                    java.toString(),
                    "--add-modules",
                    "jdk.incubator.vector",
                    "-Dai.djl.offline=true",
                    "-cp",
                    System.getProperty("java.class.path"),
                    SpecdCommand.class.getName(),
                    "serve",
                    "--port",
                    "0",
                    "--drafter",
                    "none",
                    "--model",
                    model.toString()))
            .redirectErrorStream(true)
            .start();
    try {
      awaitLine(serve, "specd serving");
      serve.destroy(); // SIGTERM
      assertThat(serve.waitFor(60, TimeUnit.SECONDS)).as("stopped within a minute").isTrue();
      assertThat(serve.exitValue()).isZero();
    } finally {
      serve.destroyForcibly();
    }
  }

  private static void awaitLine(Process process, String start) throws IOException {
    BufferedReader lines =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    for (String line = lines.readLine(); line != null; line = lines.readLine()) {
      seen.append(line).append('\n');
      if (line.startsWith(start)) {
        // keep draining the output so the server never blocks on a full pipe
        Thread drain = new Thread(() -> drain(lines));
        drain.setDaemon(true);
        drain.start();
        return;
      }
    }
    throw new AssertionError("serve ended before it listened:\n" + seen);
  }

  /** Reads the rest of the output until the process ends (its stream then closes). */
  private static void drain(BufferedReader lines) {
    try {
      while (lines.readLine() != null) {
        // the server's log, not needed
      }
    } catch (IOException closed) {
      // the process is gone
    }
  }
}
