package io.specd.cli;

import static io.specd.cli.GenerateCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.specd.cli.GenerateCommandTest.Outcome;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A careless user's command lines: one line naming the flag and pointing at the help. */
class CommandLineErrorsTest {

  @Test
  void aMissingOrUnknownFlagShouldBeOneLinePointingAtTheHelp() {
    Outcome missing = run("generate");
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err())
        .startsWith("specd generate: Missing required option: '--prompt=P'")
        .contains("(see specd generate --help)")
        .doesNotContain("Usage:");
    Outcome unknown = run("generate", "--prompt", "Hi", "--max-tokenz", "3");
    assertThat(unknown.err())
        .startsWith("specd generate: Unknown options: '--max-tokenz'")
        .contains("--max-tokens")
        .doesNotContain("Usage:");
  }

  @Test
  void everyCommandsHelpShouldRenderWithoutFormatWarnings() {
    PrintStream stderr = System.err;
    ByteArrayOutputStream warnings = new ByteArrayOutputStream();
    System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
    try {
      for (String command : SpecdCommand.commandLine().getSubcommands().keySet()) {
        assertThat(run(command, "--help").out()).as(command).contains("Usage: specd " + command);
      }
    } finally {
      System.setErr(stderr);
    }
    assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void valuesOutOfRangeShouldNameTheFlag() {
    Outcome port = run("serve", "--port", "99999");
    assertThat(port.exitCode()).isEqualTo(2);
    assertThat(port.err())
        .isEqualTo(
            "specd serve: --port must be in 0..65535, got 99999 (see specd serve --help)"
                + System.lineSeparator());
    Outcome kind = run("train-heads", "--kind", "none", "--out", "heads.json");
    assertThat(kind.err())
        .startsWith("specd train-heads: --kind must be medusa, clover or kangaroo, got 'none'");
  }

  @Test
  void aBrokenHeadsFileShouldBeDescribedWithoutParserInternals(@TempDir Path dir)
      throws IOException {
    Path heads = Files.writeString(dir.resolve("heads.json"), "{\"format\":\n");
    Outcome outcome =
        run("generate", "--prompt", "Hi", "--drafter", "medusa", "--heads", "" + heads);
    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err())
        .contains("not a head checkpoint config")
        .contains("(line 2, column 1)")
        .doesNotContain("StreamReadFeature")
        .doesNotContain("Exception");
  }
}
