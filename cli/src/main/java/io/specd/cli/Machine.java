package io.specd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** What a benchmark ran on, recorded with its figures. */
final class Machine {
  private static final Pattern MAPPING = Pattern.compile("^[0-9a-f]+-[0-9a-f]+ ");

  private Machine() {}

  static ObjectNode describe(ObjectMapper json) {
    ObjectNode machine = json.createObjectNode();
    machine.put("cpu", cpuModel());
    machine.put("cores", Runtime.getRuntime().availableProcessors());
    machine.put("java", System.getProperty("java.version"));
    machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    return machine;
  }

  /** The process's resident memory (VmRSS) in bytes, or 0 where the system does not tell. */
  static long residentBytes() {
    try {
      return Files.readAllLines(Path.of("/proc/self/status")).stream()
          .filter(l -> l.startsWith("VmRSS:"))
          .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024)
          .findFirst()
          .orElse(0L);
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  /**
   * Resident bytes of this process's memory mappings of files under {@code model} (a model file, or
   * a directory's files), from {@code /proc/self/smaps}; 0 where the system does not tell.
   */
  static long mappedResidentBytes(Path model) {
    String prefix = model.toAbsolutePath().normalize().toString();
    long kilobytes = 0;
    boolean inModel = false;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
        if (MAPPING.matcher(line).lookingAt()) {
          int path = line.indexOf('/');
          inModel = path >= 0 && line.substring(path).startsWith(prefix);
        } else if (inModel && line.startsWith("Rss:")) {
          kilobytes += Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return kilobytes * 1024;
  }

  /** Java heap in use after a full collection. */
  static long heapInUseBytes() {
    System.gc();
    Runtime runtime = Runtime.getRuntime();
    return runtime.totalMemory() - runtime.freeMemory();
  }

  /** A model's size on disk: the file, or the sum of a directory's files. */
  static long sizeOf(Path model) {
    try (var files = Files.walk(model)) {
      return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    } catch (IOException e) {
      return 0;
    }
  }

  static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst()
          .orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
