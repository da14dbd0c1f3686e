package io.specd.kernels.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

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
   * Values as Q8_0 holds them, for a matrix whose rows are not a whole number of blocks (so it
   * cannot be stored Q8_0): each row is quantized in blocks of 32, its last block completed with
   * zeros, and dequantized. These are exactly the values the same row gets in a Q8_0 tensor whose
   * rows are this row followed by zeros.
   *
   * @param values row-major {@code [rows, rowLength]}
   */
  public static float[] roundedToQ8(float[] values, int rowLength) {
    float[] out = new float[values.length];
    float[] block = new float[Q8_BLOCK];
    ByteBuffer encoded =
        ByteBuffer.allocate(GgmlType.Q8_0.bytesPerBlock()).order(ByteOrder.LITTLE_ENDIAN);
    for (int row = 0; row < values.length; row += rowLength) {
      for (int start = 0; start < rowLength; start += Q8_BLOCK) {
        int count = Math.min(Q8_BLOCK, rowLength - start);
        Arrays.fill(block, 0f);
        System.arraycopy(values, row + start, block, 0, count);
        quantizeQ8Block(block, 0, encoded.clear());
        float scale = Float16.halfToFloat(encoded.getShort(0));
        for (int j = 0; j < count; j++) {
          out[row + start + j] = scale * encoded.get(2 + j);
        }
      }
    }
    return out;
  }

  private static void quantizeQ8(float[] values, ByteBuffer out) {
    if (values.length % Q8_BLOCK != 0) {
      throw new IllegalArgumentException(
          "Q8_0 needs a multiple of " + Q8_BLOCK + " values, got " + values.length);
    }
    for (int block = 0; block < values.length; block += Q8_BLOCK) {
      quantizeQ8Block(values, block, out);
    }
  }

  /**
   * ggml's reference Q8_0 quantization of one block of 32 values: {@code d = amax / 127} (stored as
   * IEEE half) and {@code q = roundf(x · (1/d))} with the reciprocal of the unrounded d, rounding
   * halves away from zero as C's {@code roundf} does.
   */
  private static void quantizeQ8Block(float[] values, int block, ByteBuffer out) {
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

  private static int roundHalfAwayFromZero(float x) {
    float magnitude = Math.abs(x);
    float floor = (float) Math.floor(magnitude);
    int rounded = (int) floor + (magnitude - floor >= 0.5f ? 1 : 0); // the subtraction is exact
    return x < 0 ? -rounded : rounded;
  }
}
