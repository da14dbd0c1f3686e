package io.specd.kernels.format;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed GGUF file (versions 2 and 3): its metadata, its tensor table and access to the tensor
 * data, either as encoded bytes ({@link #tensorBytes}) or dequantized to float32 ({@link
 * #readFloats}).
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
   * A tensor's encoded bytes, memory-mapped, for kernels that compute on the file encoding.
   *
   * @throws ModelFormatException if the tensor is missing or its type is not supported (the message
   *     names the tensor, its type and the supported types)
   */
  public TensorBytes tensorBytes(String name) {
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
                            + ", which specd does not read (supported: "
                            + GgmlType.supportedNames()
                            + ")"));
    return TensorBytes.map(path, dataOffset + info.offset(), name, type, info.rowMajorShape());
  }

  /**
   * Reads a tensor and dequantizes it to float32 with ggml's reference values, in row-major order
   * of {@link GgufTensorInfo#rowMajorShape()}.
   *
   * @throws ModelFormatException if the tensor is missing, its type is not supported, or it is too
   *     large for one Java array
   */
  public float[] readFloats(String name) {
    TensorBytes bytes = tensorBytes(name);
    long elements = bytes.rows() * bytes.rowLength();
    if (elements > Integer.MAX_VALUE - 8) {
      throw new ModelFormatException(
          path, "tensor '" + name + "' has " + elements + " elements, too many for one array");
    }
    float[] values = new float[(int) elements];
    bytes.dequantizeRows(0, (int) bytes.rows(), values, 0);
    return values;
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
}
