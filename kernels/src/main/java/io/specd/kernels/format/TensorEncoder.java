package io.specd.kernels.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes float32 values as GGUF tensor data: {@link GgmlType#F32}, {@link GgmlType#F16}, {@link
 * GgmlType#BF16}, or {@link GgmlType#Q8_0} with ggml's reference quantization, so that a file
 * written here holds the same bytes llama.cpp's quantizer would write.
 */
public final class TensorEncoder {
  private static final int Q8_BLOCK = 32;

  private TensorEncoder() {}

  /** Whether {@link #encode} writes this type. */
  public static boolean canEncode(GgmlType type) {
    return type == GgmlType.F32
        || type == GgmlType.F16
        || type == GgmlType.BF16
        || type == GgmlType.Q8_0;
  }

  /**
   * The little-endian bytes of {@code values} in {@code type}.
   *
   * @param values row-major values; for Q8_0 their count must be a multiple of 32 (blocks run along
   *     rows, so a row's length must be too)
   * @throws IllegalArgumentException for a type not written here or a partial Q8_0 block
   */
  public static ByteBuffer encode(GgmlType type, float[] values) {
    ByteBuffer out =
        ByteBuffer.allocate(Math.toIntExact(type.byteSize(values.length)))
            .order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case F32 -> out.asFloatBuffer().put(values);
      case F16 -> {
        for (float v : values) {
          out.putShort(Float16.floatToHalf(v));
        }
      }
      case BF16 -> {
        for (float v : values) {
          out.putShort(Float16.floatToBfloat16(v));
        }
      }
      case Q8_0 -> quantizeQ8(values, out);
      default -> throw new IllegalArgumentException("specd does not write " + type + " tensors");
    }
    return out.rewind();
  }

  /**
   * ggml's reference Q8_0 quantization: per block of 32 values, {@code d = amax / 127} (stored as
   * IEEE half) and {@code q = roundf(x · (1/d))} with the reciprocal of the unrounded d, rounding
   * halves away from zero as C's {@code roundf} does.
   */
  private static void quantizeQ8(float[] values, ByteBuffer out) {
    if (values.length % Q8_BLOCK != 0) {
      throw new IllegalArgumentException(
          "Q8_0 needs a multiple of " + Q8_BLOCK + " values, got " + values.length);
    }
    for (int block = 0; block < values.length; block += Q8_BLOCK) {
      float amax = 0;
      for (int j = 0; j < Q8_BLOCK; j++) {
        amax = Math.max(amax, Math.abs(values[block + j]));
      }
      float scale = amax / 127;
      float inverse = scale != 0 ? 1.0f / scale : 0.0f;
      out.putShort(Float16.floatToHalf(scale));
      for (int j = 0; j < Q8_BLOCK; j++) {
        out.put((byte) roundHalfAwayFromZero(values[block + j] * inverse));
      }
    }
  }

  private static int roundHalfAwayFromZero(float x) {
    float magnitude = Math.abs(x);
    float floor = (float) Math.floor(magnitude);
    int rounded = (int) floor + (magnitude - floor >= 0.5f ? 1 : 0); // the subtraction is exact
    return x < 0 ? -rounded : rounded;
  }
}
