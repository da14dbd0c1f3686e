package io.specd.kernels.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the header of a GGUF file: magic, version, metadata key/values of every value type, the
 * tensor table and the aligned start of the data section. Every read is bounds-checked, so a
 * truncated or corrupt file ends in a {@link ModelFormatException} rather than an index error.
 */
final class GgufReader {
  private static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
  private static final int DEFAULT_ALIGNMENT = 32;
  private static final int MAX_DIMENSIONS = 8;

  private final Path path;
  private final ByteBuffer buffer;

  private GgufReader(Path path, ByteBuffer buffer) {
    this.path = path;
    this.buffer = buffer;
  }

  static GgufFile read(Path path) {
    if (!Files.isRegularFile(path)) {
      throw new ModelFormatException(path, "no such model file");
    }
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = channel.size();
      // The header (metadata and tensor table) always sits at the start of the file.
      long headerBytes = Math.min(size, Integer.MAX_VALUE);
      ByteBuffer header =
          channel.map(FileChannel.MapMode.READ_ONLY, 0, headerBytes).order(ByteOrder.LITTLE_ENDIAN);
      return new GgufReader(path, header).parse(size);
    } catch (NoSuchFileException e) {
      throw new ModelFormatException(path, "no such model file", e);
    } catch (IOException e) {
      throw new ModelFormatException(path, "cannot read: " + e.getMessage(), e);
    }
  }

  private GgufFile parse(long fileSize) {
    if (buffer.remaining() < 4) {
      throw new ModelFormatException(
          path, "not a GGUF file: it has " + fileSize + " bytes, fewer than the 4-byte magic");
    }
    int magic = buffer.getInt();
    if (magic != MAGIC) {
      throw new ModelFormatException(
          path,
          String.format(
              "not a GGUF file: the magic is 0x%08x (\"%s\"), expected \"GGUF\"",
              magic, printable(magic)));
    }
    int version = u32AsInt("version");
    if (version != 2 && version != 3) {
      throw new ModelFormatException(
          path, "unsupported GGUF version " + version + " (specd reads versions 2 and 3)");
    }
    long tensorCount = u64("tensor count");
    long metadataCount = u64("metadata count");
    // every tensor info and key/value takes at least 8 bytes: reject absurd counts before looping
    requireCount(tensorCount, 8, "tensor count");
    requireCount(metadataCount, 8, "metadata count");

    Map<String, GgufValue> metadata = new LinkedHashMap<>();
    for (long i = 0; i < metadataCount; i++) {
      String key = string("metadata key #" + i);
      metadata.put(key, typedValue("metadata '" + key + "'"));
    }

    Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
    for (long i = 0; i < tensorCount; i++) {
      GgufTensorInfo info = tensorInfo(i);
      if (tensors.put(info.name(), info) != null) {
        throw new ModelFormatException(path, "tensor '" + info.name() + "' appears twice");
      }
    }

    GgufValue alignmentValue = metadata.get("general.alignment");
    long alignment =
        alignmentValue != null && alignmentValue.value() instanceof Long a
            ? a
            : (long) DEFAULT_ALIGNMENT;
    if (alignment <= 0 || Long.bitCount(alignment) != 1) {
      throw new ModelFormatException(
          path, "general.alignment must be a power of two, got " + alignment);
    }
    long dataOffset = (buffer.position() + alignment - 1) / alignment * alignment;
    for (GgufTensorInfo info : tensors.values()) {
      checkTensorData(info, alignment, dataOffset, fileSize);
    }
    return new GgufFile(
        path,
        version,
        fileSize,
        dataOffset,
        Collections.unmodifiableMap(metadata),
        Collections.unmodifiableMap(tensors));
  }

  private GgufTensorInfo tensorInfo(long index) {
    String name = string("name of tensor #" + index);
    int dimensionCount = u32AsInt("dimension count of tensor '" + name + "'");
    if (dimensionCount < 1 || dimensionCount > MAX_DIMENSIONS) {
      throw new ModelFormatException(
          path, "tensor '" + name + "' has " + dimensionCount + " dimensions (1 to 8 allowed)");
    }
    long[] dimensions = new long[dimensionCount];
    for (int d = 0; d < dimensionCount; d++) {
      dimensions[d] = u64("dimension " + d + " of tensor '" + name + "'");
      if (dimensions[d] <= 0 || dimensions[d] > (1L << 40)) {
        throw new ModelFormatException(
            path, "tensor '" + name + "' has an invalid dimension " + dimensions[d]);
      }
    }
    int type = u32AsInt("type of tensor '" + name + "'");
    long offset = u64("offset of tensor '" + name + "'");
    return new GgufTensorInfo(name, dimensions, type, offset);
  }

  private void checkTensorData(
      GgufTensorInfo info, long alignment, long dataOffset, long fileSize) {
    if (info.offset() % alignment != 0) {
      throw new ModelFormatException(
          path, "tensor '" + info.name() + "' starts at offset " + info.offset() + ", not aligned");
    }
    GgmlType.byId(info.typeId())
        .ifPresent(
            type -> {
              if (info.dimensions()[0] % type.blockSize() != 0) {
                throw new ModelFormatException(
                    path,
                    "tensor '"
                        + info.name()
                        + "' of type "
                        + type
                        + " has rows of "
                        + info.dimensions()[0]
                        + " values, not a multiple of the block size "
                        + type.blockSize());
              }
              long end = dataOffset + info.offset() + type.byteSize(info.elementCount());
              if (end > fileSize) {
                throw new ModelFormatException(
                    path,
                    "truncated: tensor '"
                        + info.name()
                        + "' needs bytes up to "
                        + end
                        + " but the file has "
                        + fileSize);
              }
            });
  }

  /** A metadata value preceded by its type id. */
  private GgufValue typedValue(String what) {
    GgufValueType type = type(u32AsInt("type of " + what), what);
    if (type != GgufValueType.ARRAY) {
      return new GgufValue(type, null, value(type, what));
    }
    GgufValueType elementType = type(u32AsInt("element type of " + what), what);
    return new GgufValue(type, elementType, array(elementType, what));
  }

  private GgufValueType type(int id, String what) {
    return GgufValueType.byId(id)
        .orElseThrow(
            () ->
                new ModelFormatException(
                    path, what + " has an unknown value type " + id + " (file corrupt?)"));
  }

  private Object value(GgufValueType type, String what) {
    return switch (type) {
      case UINT8 -> (long) (u8(what));
      case INT8 -> (long) need(1, what).get();
      case UINT16 -> (long) (need(2, what).getShort() & 0xffff);
      case INT16 -> (long) need(2, what).getShort();
      case UINT32 -> Integer.toUnsignedLong(need(4, what).getInt());
      case INT32 -> (long) need(4, what).getInt();
      case FLOAT32 -> (double) need(4, what).getFloat();
      case BOOL -> u8(what) != 0;
      case STRING -> string(what);
      case ARRAY -> array(type(u32AsInt("element type of " + what), what), what);
      case UINT64, INT64 -> need(8, what).getLong();
      case FLOAT64 -> need(8, what).getDouble();
    };
  }

  private Object array(GgufValueType elementType, String what) {
    long count = u64("length of " + what);
    boolean variable = elementType == GgufValueType.STRING || elementType == GgufValueType.ARRAY;
    requireCount(count, variable ? 8 : 1, "length of " + what);
    int n = (int) count;
    switch (elementType) {
      case FLOAT32 -> {
        need(4L * n, what);
        float[] values = new float[n];
        buffer.asFloatBuffer().get(values);
        buffer.position(buffer.position() + 4 * n);
        return values;
      }
      case FLOAT64 -> {
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
          values[i] = need(8, what).getDouble();
        }
        return values;
      }
      case BOOL -> {
        boolean[] values = new boolean[n];
        for (int i = 0; i < n; i++) {
          values[i] = u8(what) != 0;
        }
        return values;
      }
      case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> {
        long[] values = new long[n];
        for (int i = 0; i < n; i++) {
          values[i] = (Long) value(elementType, what);
        }
        return values;
      }
      default -> {
        List<Object> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          values.add(value(elementType, what));
        }
        return Collections.unmodifiableList(values);
      }
    }
  }

  private String string(String what) {
    long length = u64("length of " + what);
    requireCount(length, 1, "length of " + what);
    ByteBuffer bytes = need(length, what).slice().limit((int) length);
    buffer.position(buffer.position() + (int) length);
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPLACE)
          .onUnmappableCharacter(CodingErrorAction.REPLACE)
          .decode(bytes)
          .toString();
    } catch (CharacterCodingException e) {
      throw new ModelFormatException(path, what + " is not valid UTF-8", e);
    }
  }

  private void requireCount(long count, int minBytesEach, String what) {
    if (count < 0 || count > Integer.MAX_VALUE - 8 || count * minBytesEach > buffer.remaining()) {
      throw new ModelFormatException(
          path,
          "truncated or corrupt: "
              + what
              + " is "
              + Long.toUnsignedString(count)
              + " but only "
              + buffer.remaining()
              + " bytes remain after offset "
              + buffer.position());
    }
  }

  private int u8(String what) {
    return need(1, what).get() & 0xff;
  }

  private int u32AsInt(String what) {
    int value = need(4, what).getInt();
    if (value < 0) {
      throw new ModelFormatException(
          path, what + " is " + Integer.toUnsignedString(value) + ", which is out of range");
    }
    return value;
  }

  private long u64(String what) {
    return need(8, what).getLong();
  }

  /** Makes sure {@code bytes} more bytes are available, naming what was being read if not. */
  private ByteBuffer need(long bytes, String what) {
    if (buffer.remaining() < bytes) {
      throw new ModelFormatException(
          path,
          "truncated: the file ends at byte "
              + buffer.limit()
              + " while reading "
              + what
              + " at offset "
              + buffer.position());
    }
    return buffer;
  }

  private static String printable(int magic) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      int c = (magic >>> (8 * i)) & 0xff;
      text.append(c >= 32 && c < 127 ? (char) c : '.');
    }
    return text.toString();
  }
}
