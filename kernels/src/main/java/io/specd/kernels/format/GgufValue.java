package io.specd.kernels.format;

import java.util.List;

/**
 * One GGUF metadata value with its stored type, so that it can be written back as it was read.
 * Values are represented as {@link GgufFile} documents them: {@code Long} for every integer type,
 * {@code Double} for floats, {@code Boolean}, {@code String}; arrays as {@code long[]}, {@code
 * float[]}, {@code double[]}, {@code boolean[]}, {@code List<String>}, or {@code List<Object>} for
 * arrays of arrays.
 *
 * @param type the stored type
 * @param elementType the element type of an {@link GgufValueType#ARRAY}, else null
 * @param value the value (arrays are copied in and out)
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

  public GgufValue {
    if ((type == GgufValueType.ARRAY) != (elementType != null)) {
      throw new IllegalArgumentException("an element type is given exactly for arrays");
    }
    Class<?> expected = javaClass(type, elementType);
    if (!expected.isInstance(value)) {
      throw new IllegalArgumentException(
          "a GGUF "
              + (elementType == null ? type : "array of " + elementType)
              + " is held as "
              + expected.getSimpleName()
              + ", not "
              + (value == null ? "null" : value.getClass().getSimpleName()));
    }
    value = copy(value);
  }

  @Override
  public Object value() {
    return copy(value);
  }

  /** A 32-bit unsigned integer (counts, sizes and token ids in llama.cpp's keys). */
  public static GgufValue uint32(long value) {
    if (value < 0 || value > 0xffffffffL) {
      throw new IllegalArgumentException(value + " does not fit a uint32");
    }
    return new GgufValue(GgufValueType.UINT32, null, value);
  }

  /** A 32-bit float. */
  public static GgufValue float32(double value) {
    return new GgufValue(GgufValueType.FLOAT32, null, (double) (float) value);
  }

  /** A UTF-8 string. */
  public static GgufValue string(String value) {
    return new GgufValue(GgufValueType.STRING, null, value);
  }

  /** An array of 32-bit signed integers. */
  public static GgufValue int32Array(long[] values) {
    return new GgufValue(GgufValueType.ARRAY, GgufValueType.INT32, values);
  }

  private static Class<?> javaClass(GgufValueType type, GgufValueType elementType) {
    if (type != GgufValueType.ARRAY) {
      return scalarClass(type);
    }
    return switch (elementType) {
      case FLOAT32 -> float[].class;
      case FLOAT64 -> double[].class;
      case BOOL -> boolean[].class;
      case STRING, ARRAY -> List.class;
      default -> long[].class;
    };
  }

  private static Class<?> scalarClass(GgufValueType type) {
    return switch (type) {
      case FLOAT32, FLOAT64 -> Double.class;
      case BOOL -> Boolean.class;
      case STRING -> String.class;
      case ARRAY -> List.class;
      default -> Long.class;
    };
  }

  private static Object copy(Object value) {
    if (value instanceof long[] longs) {
      return longs.clone();
    }
    if (value instanceof float[] floats) {
      return floats.clone();
    }
    if (value instanceof double[] doubles) {
      return doubles.clone();
    }
    if (value instanceof boolean[] booleans) {
      return booleans.clone();
    }
    if (value instanceof List<?> list) {
      return List.copyOf(list);
    }
    return value;
  }
}
