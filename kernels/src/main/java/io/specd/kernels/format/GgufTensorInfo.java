package io.specd.kernels.format;

import java.util.Arrays;

/**
 * One tensor's entry in a GGUF file.
 *
 * @param name tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param dimensions GGML dimensions, fastest-varying first ({@code ne[0]} is the row length)
 * @param typeId the GGML type id as stored (see {@link GgmlType#byId})
 * @param offset byte offset of the data relative to the start of the data section
 */
public record GgufTensorInfo(String name, long[] dimensions, int typeId, long offset) {

  public GgufTensorInfo {
    dimensions = dimensions.clone();
  }

  @Override
  public long[] dimensions() {
    return dimensions.clone();
  }

  /** Number of elements. */
  public long elementCount() {
    long count = 1;
    for (long d : dimensions) {
      count *= d;
    }
    return count;
  }

  /** The shape in row-major (PyTorch) order: the GGML dimensions reversed. */
  public long[] rowMajorShape() {
    long[] shape = new long[dimensions.length];
    for (int i = 0; i < dimensions.length; i++) {
      shape[i] = dimensions[dimensions.length - 1 - i];
    }
    return shape;
  }

  /** A human-readable type name, known or not. */
  public String typeName() {
    return GgmlType.byId(typeId).map(Enum::name).orElse("unknown type " + typeId);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof GgufTensorInfo that
        && name.equals(that.name)
        && Arrays.equals(dimensions, that.dimensions)
        && typeId == that.typeId
        && offset == that.offset;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(dimensions);
  }

  @Override
  public String toString() {
    return name + Arrays.toString(rowMajorShape()) + " " + typeName();
  }
}
