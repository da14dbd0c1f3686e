package io.specd.kernels.format;

import java.util.Arrays;
import java.util.Optional;

/**
 * The value types of GGUF metadata, with the ids files store. Readers such as llama.cpp check these
 * types key by key ({@code llama.block_count} must be a {@link #UINT32}), so a file rewritten from
 * another keeps each value's type.
 */
public enum GgufValueType {
  UINT8(0, 1),
  INT8(1, 1),
  UINT16(2, 2),
  INT16(3, 2),
  UINT32(4, 4),
  INT32(5, 4),
  FLOAT32(6, 4),
  BOOL(7, 1),
  STRING(8, 0),
  ARRAY(9, 0),
  UINT64(10, 8),
  INT64(11, 8),
  FLOAT64(12, 8);

  private final int id;
  private final int byteSize;

  GgufValueType(int id, int byteSize) {
    this.id = id;
    this.byteSize = byteSize;
  }

  /** The numeric id stored in the file. */
  public int id() {
    return id;
  }

  /** Bytes of one value, or 0 for the variable-length {@link #STRING} and {@link #ARRAY}. */
  public int byteSize() {
    return byteSize;
  }

  /** The type with the given id, if it is one. */
  public static Optional<GgufValueType> byId(int id) {
    return Arrays.stream(values()).filter(t -> t.id == id).findFirst();
  }
}
