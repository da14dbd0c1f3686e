package io.specd.cli;

import io.specd.kernels.format.ModelFormatException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code specd}: the command line. Only this package writes to standard output and error. */
@Command(
    name = "specd",
    mixinStandardHelpOptions = true,
    version = "specd 0.1.0",
    description = "A speculative-decoding LLM engine for the JVM.",
    subcommands = {
      GenerateCommand.class,
      BenchCommand.class,
      TrainHeadsCommand.class,
      ServeCommand.class,
      PadCommand.class,
      TokenizeCommand.class
    })
public final class SpecdCommand {
  /** Columns of the help text: wide enough that the paths in it stay on one line. */
  private static final int USAGE_WIDTH = 100;

  public static void main(String[] args) {
    int status;
    try {
      status = commandLine().execute(args);
    } catch (OutOfMemoryError e) { // the model, its drafters and KV caches outgrew the heap
      System.err.printf(
          "specd: out of memory (%s) with a %d MiB Java heap: give the JVM more, e.g."
              + " SPECD_JAVA_OPTS=-Xmx4g, or serve fewer sessions%n",
          e.getMessage(), Runtime.getRuntime().maxMemory() >> 20);
      status = 3;
    }
    System.exit(status);
  }

  /**
   * The command line with specd's error handling: a clear message, no stack trace; a wrong flag or
   * value is one line naming it and pointing at the command's help, not the whole usage.
   */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new SpecdCommand());
    cli.setUsageHelpWidth(USAGE_WIDTH);
    cli.setParameterExceptionHandler(
        (exception, args) -> {
          CommandLine command = exception.getCommandLine();
          String name = command.getCommandSpec().qualifiedName();
          PrintWriter err = command.getErr();
          err.println(name + ": " + exception.getMessage() + " (see " + name + " --help)");
          CommandLine.UnmatchedArgumentException.printSuggestions(exception, err);
          err.flush();
          return command.getCommandSpec().exitCodeOnInvalidInput();
        });
    cli.setExecutionExceptionHandler(
        (exception, commandLine, parseResult) -> {
          PrintWriter err = commandLine.getErr();
          if (exception instanceof ModelFormatException
              || exception instanceof IllegalArgumentException
              || exception instanceof java.io.IOException) {
            err.println("specd: " + exception.getMessage());
            err.flush();
            return 2;
          }
          err.println("specd: unexpected failure: " + exception);
          exception.printStackTrace(err);
          err.flush();
          return 1;
        });
    return cli;
  }
}
