package io.specd.kernels.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A parsed {@code .safetensors} file: an 8-byte little-endian header length, a JSON header that
 * maps tensor names to dtype, shape and byte range, then the raw data. F32, F16 and BF16 tensors
 * are read as float32. Every problem ends in a {@link ModelFormatException} naming the file.
 */
public final class SafetensorsFile {
  private static final long MAX_HEADER = 100L * 1024 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One tensor's header entry; offsets are relative to the start of the data section. */
  public record Entry(String name, String dtype, long[] shape, long begin, long end) {
    public Entry {
      shape = shape.clone();
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    public long elementCount() {
      return Arrays.stream(shape).reduce(1, Math::multiplyExact);
    }
  }

  private final Path path;
  private final long dataStart;
  private final Map<String, Entry> tensors;
  private final Map<String, String> metadata;

  private SafetensorsFile(
      Path path, long dataStart, Map<String, Entry> tensors, Map<String, String> metadata) {
    this.path = path;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Reads and validates the header of a safetensors file. */
  public static SafetensorsFile open(Path path) {
    if (!Files.isRegularFile(path)) {
      throw new ModelFormatException(path, "no such safetensors file");
    }
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = channel.size();
      if (size < 8) {
        throw new ModelFormatException(
            path, "truncated: " + size + " bytes, fewer than the 8-byte header length");
      }
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      channel.read(lengthBytes, 0);
      long headerLength = lengthBytes.flip().getLong();
      if (headerLength <= 0 || headerLength > MAX_HEADER) {
        throw new ModelFormatException(
            path, "not a safetensors file: header length " + headerLength + " is implausible");
      }
      if (8 + headerLength > size) {
        throw new ModelFormatException(
            path, "truncated: the header needs " + headerLength + " bytes, the file has " + size);
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLength);
      channel.read(header, 8);
      return parse(
          path, new String(header.array(), StandardCharsets.UTF_8), 8 + headerLength, size);
    } catch (IOException e) {
      throw new ModelFormatException(path, "cannot read: " + e.getMessage(), e);
    }
  }

  private static SafetensorsFile parse(Path path, String headerJson, long dataStart, long size) {
    JsonNode root;
    try {
      root = JSON.readTree(headerJson);
    } catch (JsonProcessingException e) {
      throw new ModelFormatException(
          path, "not a safetensors file: the header is not JSON (" + e.getOriginalMessage() + ")");
    }
    if (root == null || !root.isObject()) {
      throw new ModelFormatException(path, "not a safetensors file: the header is not an object");
    }
    Map<String, Entry> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (field.getKey().equals("__metadata__")) {
        field
            .getValue()
            .fields()
            .forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
        continue;
      }
      tensors.put(field.getKey(), entry(path, field.getKey(), field.getValue(), size - dataStart));
    }
    return new SafetensorsFile(
        path,
        dataStart,
        Collections.unmodifiableMap(tensors),
        Collections.unmodifiableMap(metadata));
  }

  private static Entry entry(Path path, String name, JsonNode node, long dataSize) {
    JsonNode dtype = node.get("dtype");
    JsonNode shape = node.get("shape");
    JsonNode offsets = node.get("data_offsets");
    if (dtype == null
        || shape == null
        || offsets == null
        || !shape.isArray()
        || offsets.size() != 2) {
      throw new ModelFormatException(
          path, "tensor '" + name + "' lacks dtype, shape or data_offsets in the header");
    }
    long[] dims = new long[shape.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.get(i).asLong(-1);
      if (dims[i] < 0) {
        throw new ModelFormatException(path, "tensor '" + name + "' has a negative dimension");
      }
    }
    Entry entry =
        new Entry(name, dtype.asText(), dims, offsets.get(0).asLong(-1), offsets.get(1).asLong(-1));
    long bytesPerValue = bytesPerValue(entry.dtype());
    if (entry.begin() < 0 || entry.end() < entry.begin()) {
      throw new ModelFormatException(path, "tensor '" + name + "' has invalid data_offsets");
    }
    if (entry.end() > dataSize) {
      throw new ModelFormatException(
          path,
          "truncated: tensor '"
              + name
              + "' ends at data byte "
              + entry.end()
              + " but the data section has "
              + dataSize);
    }
    if (bytesPerValue > 0 && entry.end() - entry.begin() != entry.elementCount() * bytesPerValue) {
      throw new ModelFormatException(
          path,
          "tensor '"
              + name
              + "' of shape "
              + Arrays.toString(dims)
              + " and dtype "
              + entry.dtype()
              + " should take "
              + entry.elementCount() * bytesPerValue
              + " bytes, not "
              + (entry.end() - entry.begin()));
    }
    return entry;
  }

  private static long bytesPerValue(String dtype) {
    return switch (dtype) {
      case "F64", "I64", "U64" -> 8;
      case "F32", "I32", "U32" -> 4;
      case "F16", "BF16", "I16", "U16" -> 2;
      case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
      default -> -1;
    };
  }

  public Path path() {
    return path;
  }

  /** Tensor entries in header order. */
  public Map<String, Entry> tensors() {
    return tensors;
  }

  /** The {@code __metadata__} string map (empty if absent). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The entry of a tensor, or a {@link ModelFormatException} naming it. */
  public Entry entry(String name) {
    Entry entry = tensors.get(name);
    if (entry == null) {
      throw new ModelFormatException(path, "missing tensor '" + name + "'");
    }
    return entry;
  }

  /** Reads an I32 tensor, row-major. */
  public int[] readInts(String name) {
    Entry entry = entry(name);
    if (!entry.dtype().equals("I32")) {
      throw new ModelFormatException(
          path, "tensor '" + name + "' has dtype " + entry.dtype() + ", expected I32");
    }
    int[] out = new int[Math.toIntExact(entry.elementCount())];
    map(entry, name).asIntBuffer().get(out);
    return out;
  }

  private ByteBuffer map(Entry entry, String name) {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      return channel
          .map(
              FileChannel.MapMode.READ_ONLY, dataStart + entry.begin(), entry.end() - entry.begin())
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new ModelFormatException(path, "cannot read tensor '" + name + "': " + e, e);
    }
  }

  /**
   * A tensor's bytes as stored (F32, F16 or BF16), memory-mapped, for kernels that compute on them.
   *
   * @throws ModelFormatException if the tensor is missing or of another dtype
   */
  public TensorBytes tensorBytes(String name) {
    Entry entry = entry(name);
    GgmlType type =
        switch (entry.dtype()) {
          case "F32" -> GgmlType.F32;
          case "F16" -> GgmlType.F16;
          case "BF16" -> GgmlType.BF16;
          default ->
              throw new ModelFormatException(
                  path,
                  "tensor '"
                      + name
                      + "' has dtype "
                      + entry.dtype()
                      + " (specd reads F32, F16, BF16)");
        };
    return TensorBytes.map(path, dataStart + entry.begin(), name, type, entry.shape());
  }

  /** Reads a tensor (F32, F16 or BF16) as float32 values, row-major. */
  public float[] readFloats(String name) {
    Entry entry = entry(name);
    int count = Math.toIntExact(entry.elementCount());
    ByteBuffer data = map(entry, name);
    float[] out = new float[count];
    switch (entry.dtype()) {
      case "F32" -> data.asFloatBuffer().get(out);
      case "F16" -> {
        for (int i = 0; i < count; i++) {
          out[i] = Float16.halfToFloat(data.getShort(2 * i));
        }
      }
      case "BF16" -> {
        for (int i = 0; i < count; i++) {
          out[i] = Float16.bfloat16ToFloat(data.getShort(2 * i));
        }
      }
      default ->
          throw new ModelFormatException(
              path,
              "tensor '" + name + "' has dtype " + entry.dtype() + " (specd reads F32, F16, BF16)");
    }
    return out;
  }
}
