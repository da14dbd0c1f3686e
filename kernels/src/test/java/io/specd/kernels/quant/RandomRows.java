package io.specd.kernels.quant;

import io.specd.kernels.format.Float16;
import io.specd.kernels.format.GgmlType;
import java.util.Random;

/**
 * Random but valid encoded rows of every supported type: random bytes (so quants, high bits and the
 * packed 6-bit scales and mins are random), with every f16 scale, minimum and F16/BF16/F32 value
 * forced to a sane finite number.
 */
final class RandomRows {
  private RandomRows() {}

  /** {@code count} values (whole blocks) of the type, encoded. */
  static byte[] of(GgmlType type, int count, Random random) {
    byte[] bytes = new byte[Math.toIntExact(type.byteSize(count))];
    random.nextBytes(bytes);
    int blockBytes = type.bytesPerBlock();
    for (int at = 0; at < bytes.length; at += blockBytes) {
      switch (type) {
        case F32 -> putInt(bytes, at, Float.floatToIntBits(random.nextFloat() * 4 - 2));
        case F16 -> putShort(bytes, at, Float16.floatToHalf(random.nextFloat() * 4 - 2));
        case BF16 -> putShort(bytes, at, Float16.floatToBfloat16(random.nextFloat() * 4 - 2));
        case Q8_0, Q4_0, Q5_0 -> putShort(bytes, at, scale(random));
        case Q4_1, Q5_1, Q4_K, Q5_K -> {
          putShort(bytes, at, scale(random));
          putShort(bytes, at + 2, scale(random));
        }
        case Q2_K -> {
          putShort(bytes, at + 80, scale(random));
          putShort(bytes, at + 82, scale(random));
        }
        case Q3_K -> putShort(bytes, at + 108, scale(random));
        case Q6_K -> putShort(bytes, at + 208, scale(random));
        default -> throw new IllegalArgumentException("unsupported: " + type);
      }
    }
    return bytes;
  }

  /** A half of magnitude 1e-3 to 1e-1, either sign. */
  private static short scale(Random random) {
    float magnitude = (float) Math.pow(10, -3 + 2 * random.nextDouble());
    return Float16.floatToHalf(random.nextBoolean() ? magnitude : -magnitude);
  }

  private static void putShort(byte[] bytes, int at, short value) {
    bytes[at] = (byte) value;
    bytes[at + 1] = (byte) (value >> 8);
  }

  private static void putInt(byte[] bytes, int at, int value) {
    putShort(bytes, at, (short) value);
    putShort(bytes, at + 2, (short) (value >> 16));
  }
}
