package io.specd.kernels.format;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes float32 (and int32) tensors as a {@code .safetensors} file, atomically (a temporary file
 * renamed into place), so a crash never leaves a half-written checkpoint.
 */
public final class SafetensorsWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A named float32 tensor to write. */
  public record Tensor(float[] values, long[] shape) {
    public Tensor {
      long count = Arrays.stream(shape).reduce(1, Math::multiplyExact);
      if (count != values.length) {
        throw new IllegalArgumentException(
            "shape "
                + Arrays.toString(shape)
                + " needs "
                + count
                + " values, got "
                + values.length);
      }
    }
  }

  /** A named int32 tensor to write (token ids, counts). */
  public record IntTensor(int[] values, long[] shape) {
    public IntTensor {
      if (Arrays.stream(shape).reduce(1, Math::multiplyExact) != values.length) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(shape) + " does not hold " + values.length + " values");
      }
    }
  }

  private final Map<String, Tensor> tensors = new LinkedHashMap<>();
  private final Map<String, IntTensor> intTensors = new LinkedHashMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  public SafetensorsWriter put(String name, float[] values, long... shape) {
    tensors.put(name, new Tensor(values, shape.clone()));
    return this;
  }

  /** Adds an int32 tensor. */
  public SafetensorsWriter putInts(String name, int[] values, long... shape) {
    intTensors.put(name, new IntTensor(values, shape.clone()));
    return this;
  }

  /** The tensors put so far, by name, in order. */
  public Map<String, Tensor> tensors() {
    return java.util.Collections.unmodifiableMap(tensors);
  }

  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /** Writes the file; on failure nothing is left at {@code path}. */
  public void write(Path path) throws IOException {
    ObjectNode header = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      offset =
          describe(
              header,
              e.getKey(),
              "F32",
              e.getValue().shape(),
              offset,
              e.getValue().values().length);
    }
    for (Map.Entry<String, IntTensor> e : intTensors.entrySet()) {
      offset =
          describe(
              header,
              e.getKey(),
              "I32",
              e.getValue().shape(),
              offset,
              e.getValue().values().length);
    }
    byte[] headerBytes = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    int padding = (8 - headerBytes.length % 8) % 8; // keep the data section 8-byte aligned
    Path parent = path.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path temporary = Files.createTempFile(parent, path.getFileName().toString(), ".partial");
    try {
      try (OutputStream out = Files.newOutputStream(temporary)) {
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        length.putLong(headerBytes.length + padding);
        out.write(length.array());
        out.write(headerBytes);
        out.write(" ".repeat(padding).getBytes(StandardCharsets.US_ASCII));
        for (Tensor tensor : tensors.values()) {
          ByteBuffer data =
              ByteBuffer.allocate(4 * tensor.values().length).order(ByteOrder.LITTLE_ENDIAN);
          data.asFloatBuffer().put(tensor.values());
          out.write(data.array());
        }
        for (IntTensor tensor : intTensors.values()) {
          ByteBuffer data =
              ByteBuffer.allocate(4 * tensor.values().length).order(ByteOrder.LITTLE_ENDIAN);
          data.asIntBuffer().put(tensor.values());
          out.write(data.array());
        }
      }
      Files.move(
          temporary, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  /** Adds a tensor's header entry; returns the offset after its 4-byte elements. */
  private static long describe(
      ObjectNode header, String name, String dtype, long[] shape, long offset, int count) {
    ObjectNode node = header.putObject(name);
    node.put("dtype", dtype);
    var dims = node.putArray("shape");
    for (long d : shape) {
      dims.add(d);
    }
    long size = 4L * count;
    node.putArray("data_offsets").add(offset).add(offset + size);
    return offset + size;
  }
}
