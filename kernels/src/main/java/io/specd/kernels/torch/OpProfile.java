package io.specd.kernels.torch;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Counts the operators a piece of work dispatches, with PyTorch's own profiler: the top-level
 * {@code aten::} events of the recorded trace are the ops DJL issued (nested events are their
 * implementation). Used by {@code specd bench} to report ops per decode step.
 */
public final class OpProfile {
  private static final ObjectMapper JSON = new ObjectMapper();

  private OpProfile() {}

  /**
   * Runs {@code work} under the profiler and returns the number of top-level ops it issued.
   *
   * @throws IOException if the trace cannot be written or read
   */
  public static int countOps(Runnable work) throws IOException {
    Path trace = Files.createTempFile("specd-ops", ".json");
    try {
      JniUtils.startProfile(false, false, false);
      try {
        work.run();
      } finally {
        JniUtils.stopProfile(trace.toString());
      }
      return topLevelEvents(JSON.readTree(trace.toFile()));
    } finally {
      Files.deleteIfExists(trace);
    }
  }

  /** Complete ("X") events that no earlier event on the same thread encloses. */
  static int topLevelEvents(JsonNode trace) {
    JsonNode events = trace.isArray() ? trace : trace.path("traceEvents");
    List<double[]> spans = new ArrayList<>(); // thread, start, duration
    for (JsonNode event : events) {
      if ("X".equals(event.path("ph").asText())) {
        spans.add(
            new double[] {
              event.path("tid").asDouble(),
              event.path("ts").asDouble(),
              event.path("dur").asDouble()
            });
      }
    }
    spans.sort(
        Comparator.<double[]>comparingDouble(s -> s[0])
            .thenComparingDouble(s -> s[1])
            .thenComparingDouble(s -> -s[2]));
    int count = 0;
    double thread = Double.NaN;
    double end = Double.NEGATIVE_INFINITY;
    for (double[] span : spans) {
      if (span[0] != thread) {
        thread = span[0];
        end = Double.NEGATIVE_INFINITY;
      }
      if (span[1] >= end) {
        count++;
        end = span[1] + span[2];
      }
    }
    return count;
  }
}
