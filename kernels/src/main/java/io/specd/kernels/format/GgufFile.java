package io.specd.kernels.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed GGUF file (versions 2 and 3): its metadata, its tensor table and access to the tensor
 * data, dequantized to float32.
 *
 * <p>Metadata values are represented as: {@code Long} for every integer type, {@code Double} for
 * floats, {@code Boolean}, {@code String}; arrays as {@code long[]}, {@code float[]} (float32),
 * {@code double[]} (float64), {@code boolean[]}, {@code List<String>}, or {@code List<Object>} for
 * arrays of arrays.
 *
 * <p>Every problem with the file ends in a {@link ModelFormatException} that names the file.
 * Instances are immutable; tensor data is read from the file on demand.
 */
public final class GgufFile {
  private final Path path;
  private final int version;
  private final long fileSize;
  private final long dataOffset;
  private final Map<String, GgufValue> typedMetadata;
  private final Map<String, Object> metadata;
  private final Map<String, GgufTensorInfo> tensors;

  GgufFile(
      Path path,
      int version,
      long fileSize,
      long dataOffset,
      Map<String, GgufValue> typedMetadata,
      Map<String, GgufTensorInfo> tensors) {
    this.path = path;
    this.version = version;
    this.fileSize = fileSize;
    this.dataOffset = dataOffset;
    this.typedMetadata = typedMetadata;
    Map<String, Object> values = new LinkedHashMap<>();
    typedMetadata.forEach((key, value) -> values.put(key, value.value()));
    this.metadata = Collections.unmodifiableMap(values);
    this.tensors = tensors;
  }

  /**
   * Reads the header, metadata and tensor table of a GGUF file and checks that every tensor's data
   * lies inside the file.
   *
   * @throws ModelFormatException if the file is missing, truncated, not GGUF, of an unsupported
   *     version, or inconsistent
   */
  public static GgufFile open(Path path) {
    return GgufReader.read(path);
  }

  public Path path() {
    return path;
  }

  public int version() {
    return version;
  }

  /** All metadata, in file order. */
  public Map<String, Object> metadata() {
    return metadata;
  }

  /** All metadata with the type each value is stored as, in file order (to write it back). */
  public Map<String, GgufValue> typedMetadata() {
    return typedMetadata;
  }

  /** All tensor infos, in file order. */
  public Map<String, GgufTensorInfo> tensors() {
    return tensors;
  }

  public boolean has(String key) {
    return metadata.containsKey(key);
  }

  /** A string value, or empty when absent. */
  public Optional<String> optionalString(String key) {
    return Optional.ofNullable(metadata.get(key)).map(v -> cast(key, v, String.class));
  }

  /** A required string value. */
  public String string(String key) {
    return cast(key, required(key), String.class);
  }

  /** An integer value, or empty when absent. */
  public Optional<Long> optionalInteger(String key) {
    return Optional.ofNullable(metadata.get(key)).map(v -> cast(key, v, Long.class));
  }

  /** A required integer value. */
  public long integer(String key) {
    return cast(key, required(key), Long.class);
  }

  /** A required integer value that must fit an int and be positive. */
  public int positiveInt(String key) {
    long value = integer(key);
    if (value <= 0 || value > Integer.MAX_VALUE) {
      throw new ModelFormatException(path, "metadata '" + key + "' must be positive, got " + value);
    }
    return (int) value;
  }

  /** A floating point (or integer) value, or empty when absent. */
  public Optional<Double> optionalReal(String key) {
    Object value = metadata.get(key);
    if (value == null) {
      return Optional.empty();
    }
    if (value instanceof Long l) {
      return Optional.of(l.doubleValue());
    }
    return Optional.of(cast(key, value, Double.class));
  }

  /** A boolean value, or empty when absent. */
  public Optional<Boolean> optionalBoolean(String key) {
    return Optional.ofNullable(metadata.get(key)).map(v -> cast(key, v, Boolean.class));
  }

  /** A required array of strings. */
  @SuppressWarnings("unchecked")
  public List<String> strings(String key) {
    Object value = required(key);
    if (value instanceof List<?> list && list.stream().allMatch(String.class::isInstance)) {
      return (List<String>) list;
    }
    throw wrongType(key, value, "array of strings");
  }

  /** A float32 array, or empty when absent. */
  public Optional<float[]> optionalFloats(String key) {
    return Optional.ofNullable(metadata.get(key)).map(v -> cast(key, v, float[].class).clone());
  }

  /** An integer array (each element must fit an int), or empty when absent. */
  public Optional<int[]> optionalInts(String key) {
    return Optional.ofNullable(metadata.get(key))
        .map(
            v -> {
              long[] longs = cast(key, v, long[].class);
              int[] ints = new int[longs.length];
              for (int i = 0; i < longs.length; i++) {
                ints[i] = Math.toIntExact(longs[i]);
              }
              return ints;
            });
  }

  /** The tensor of the given name, or a {@link ModelFormatException} naming it. */
  public GgufTensorInfo tensor(String name) {
    GgufTensorInfo info = tensors.get(name);
    if (info == null) {
      throw new ModelFormatException(path, "missing tensor '" + name + "'");
    }
    return info;
  }

  /**
   * Reads a tensor and dequantizes it to float32, in row-major order of {@link
   * GgufTensorInfo#rowMajorShape()}.
   *
   * @throws ModelFormatException if the tensor is missing, its type is not supported, or it is too
   *     large for one Java array
   */
  public float[] readFloats(String name) {
    GgufTensorInfo info = tensor(name);
    GgmlType type =
        GgmlType.byId(info.typeId())
            .filter(GgmlType::isSupported)
            .orElseThrow(
                () ->
                    new ModelFormatException(
                        path,
                        "tensor '"
                            + name
                            + "' has type "
                            + info.typeName()
                            + ", which specd does not read (supported: F32, F16, BF16, Q8_0)"));
    long elements = info.elementCount();
    if (elements > Integer.MAX_VALUE - 8) {
      throw new ModelFormatException(
          path, "tensor '" + name + "' has " + elements + " elements, too many for one array");
    }
    long bytes = type.byteSize(elements);
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      MappedByteBuffer data =
          channel.map(FileChannel.MapMode.READ_ONLY, dataOffset + info.offset(), bytes);
      return TensorDecoder.decode(type, data.order(ByteOrder.LITTLE_ENDIAN), (int) elements);
    } catch (NoSuchFileException e) {
      throw new ModelFormatException(path, "the file disappeared while reading", e);
    } catch (IOException e) {
      throw new ModelFormatException(path, "cannot read tensor '" + name + "': " + e, e);
    }
  }

  long fileSize() {
    return fileSize;
  }

  long dataOffset() {
    return dataOffset;
  }

  private Object required(String key) {
    Object value = metadata.get(key);
    if (value == null) {
      throw new ModelFormatException(path, "missing metadata '" + key + "'");
    }
    return value;
  }

  private <T> T cast(String key, Object value, Class<T> type) {
    if (!type.isInstance(value)) {
      throw wrongType(key, value, type.getSimpleName());
    }
    return type.cast(value);
  }

  private ModelFormatException wrongType(String key, Object value, String expected) {
    return new ModelFormatException(
        path,
        "metadata '"
            + key
            + "' should be "
            + expected
            + " but is "
            + value.getClass().getSimpleName());
  }

  /** Decodes raw tensor bytes of a supported type into float32 values. */
  static final class TensorDecoder {
    private TensorDecoder() {}

    static float[] decode(GgmlType type, ByteBuffer data, int elements) {
      float[] out = new float[elements];
      switch (type) {
        case F32 -> data.asFloatBuffer().get(out);
        case F16 -> {
          for (int i = 0; i < elements; i++) {
            out[i] = Float16.halfToFloat(data.getShort(2 * i));
          }
        }
        case BF16 -> {
          for (int i = 0; i < elements; i++) {
            out[i] = Float16.bfloat16ToFloat(data.getShort(2 * i));
          }
        }
        case Q8_0 -> {
          // blocks of 32 values: a float16 scale d, then 32 signed bytes q; value = d * q
          int blocks = elements / 32;
          for (int b = 0; b < blocks; b++) {
            int base = b * 34;
            float scale = Float16.halfToFloat(data.getShort(base));
            for (int j = 0; j < 32; j++) {
              out[b * 32 + j] = scale * data.get(base + 2 + j);
            }
          }
        }
        default -> throw new IllegalArgumentException("not a readable type: " + type);
      }
      return out;
    }
  }
}
