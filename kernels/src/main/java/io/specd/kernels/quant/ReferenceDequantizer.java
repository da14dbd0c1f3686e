package io.specd.kernels.quant;

import io.specd.kernels.format.Float16;
import io.specd.kernels.format.GgmlType;

/**
 * ggml's reference dequantization ({@code dequantize_row_*} in ggml-quants.c), written as plain
 * scalar loops in ggml's order of operations so that every value is bit-identical to ggml's. It is
 * the contract the vector {@link RowKernel}s are tested against, and what whole-tensor reads
 * ({@code GgufFile.readFloats}, {@code TensorBytes.dequantizeRows}) use.
 *
 * <p>Block layouts (little-endian; "f16" is an IEEE half, "d" a scale, "m" a minimum):
 *
 * <ul>
 *   <li>Q8_0 (32 values, 34 bytes): f16 d, int8 q[32]; value = q·d.
 *   <li>Q4_0 (32, 18): f16 d, q[16] nibbles (low nibbles are values 0–15, high nibbles 16–31);
 *       value = (q − 8)·d.
 *   <li>Q4_1 (32, 20): f16 d, f16 m, q[16] nibbles; value = q·d + m.
 *   <li>Q5_0 (32, 22): f16 d, uint32 qh (bit i is the fifth bit of value i), q[16] nibbles; value =
 *       (q − 16)·d.
 *   <li>Q5_1 (32, 24): f16 d, f16 m, uint32 qh, q[16] nibbles; value = q·d + m.
 *   <li>Q2_K (256, 84): scales[16] (low nibble scale, high nibble min, per 16 values), q[64] 2-bit
 *       quants, f16 d, f16 dmin; value = d·sc·q − dmin·m.
 *   <li>Q3_K (256, 110): hmask[32] (high bits), q[64] 2-bit quants, scales[12] (sixteen 6-bit
 *       scales), f16 d; value = d·(sc − 32)·(q − 4·(1 − high bit)).
 *   <li>Q4_K (256, 144): f16 d, f16 dmin, scales[12] (eight 6-bit scales and mins, per 32 values),
 *       q[128] nibbles; value = d·sc·q − dmin·m.
 *   <li>Q5_K (256, 176): as Q4_K plus qh[32] fifth bits before the nibbles.
 *   <li>Q6_K (256, 210): ql[128] low nibbles, qh[64] 2-bit high parts, int8 scales[16] (per 16
 *       values), f16 d; value = d·sc·(q − 32).
 * </ul>
 */
public final class ReferenceDequantizer {
  private ReferenceDequantizer() {}

  /**
   * Dequantizes {@code count} values of one encoded row.
   *
   * @param type the encoding; must be supported ({@link GgmlType#isSupported()})
   * @param src encoded bytes; the values start at {@code src[srcOffset]}, on a block boundary
   * @param dst receives {@code count} floats from {@code dst[dstOffset]}
   * @param count values to decode, a multiple of {@code type.blockSize()}
   * @throws IllegalArgumentException if the type is not supported or count is not whole blocks
   */
  public static void dequantize(
      GgmlType type, byte[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    if (!type.isSupported()) {
      throw new IllegalArgumentException("no dequantizer for type " + type);
    }
    if (count % type.blockSize() != 0) {
      throw new IllegalArgumentException(
          count + " values are not whole blocks of " + type.blockSize() + " (" + type + ")");
    }
    switch (type) {
      case F32 -> {
        for (int i = 0; i < count; i++) {
          dst[dstOffset + i] = Float.intBitsToFloat(int32(src, srcOffset + 4 * i));
        }
      }
      case F16 -> {
        for (int i = 0; i < count; i++) {
          dst[dstOffset + i] = half(src, srcOffset + 2 * i);
        }
      }
      case BF16 -> {
        for (int i = 0; i < count; i++) {
          dst[dstOffset + i] = Float16.bfloat16ToFloat(int16(src, srcOffset + 2 * i));
        }
      }
      default -> {
        BlockDecoder decoder = blockDecoder(type);
        for (int block = 0; block < count / type.blockSize(); block++) {
          decoder.decode(
              src,
              srcOffset + block * type.bytesPerBlock(),
              dst,
              dstOffset + block * type.blockSize());
        }
      }
    }
  }

  /** Decodes one quantization block at {@code src[block]} into {@code dst[to..]}. */
  private interface BlockDecoder {
    void decode(byte[] src, int block, float[] dst, int to);
  }

  private static BlockDecoder blockDecoder(GgmlType type) {
    return switch (type) {
      case Q8_0 -> ReferenceDequantizer::q8_0;
      case Q4_0 -> ReferenceDequantizer::q4_0;
      case Q4_1 -> ReferenceDequantizer::q4_1;
      case Q5_0 -> ReferenceDequantizer::q5_0;
      case Q5_1 -> ReferenceDequantizer::q5_1;
      case Q2_K -> ReferenceDequantizer::q2_k;
      case Q3_K -> ReferenceDequantizer::q3_k;
      case Q4_K -> ReferenceDequantizer::q4_k;
      case Q5_K -> ReferenceDequantizer::q5_k;
      case Q6_K -> ReferenceDequantizer::q6_k;
      default -> throw new IllegalStateException("not a block type: " + type);
    };
  }

  private static void q8_0(byte[] src, int block, float[] dst, int to) {
    float d = half(src, block);
    for (int j = 0; j < 32; j++) {
      dst[to + j] = src[block + 2 + j] * d;
    }
  }

  private static void q4_0(byte[] src, int block, float[] dst, int to) {
    float d = half(src, block);
    for (int j = 0; j < 16; j++) {
      int packed = src[block + 2 + j] & 0xff;
      dst[to + j] = ((packed & 0x0f) - 8) * d;
      dst[to + j + 16] = ((packed >>> 4) - 8) * d;
    }
  }

  private static void q4_1(byte[] src, int block, float[] dst, int to) {
    float d = half(src, block);
    float m = half(src, block + 2);
    for (int j = 0; j < 16; j++) {
      int packed = src[block + 4 + j] & 0xff;
      dst[to + j] = (packed & 0x0f) * d + m;
      dst[to + j + 16] = (packed >>> 4) * d + m;
    }
  }

  private static void q5_0(byte[] src, int block, float[] dst, int to) {
    float d = half(src, block);
    int highBits = int32(src, block + 2);
    for (int j = 0; j < 16; j++) {
      int packed = src[block + 6 + j] & 0xff;
      int high0 = ((highBits >>> j) << 4) & 0x10;
      int high1 = (highBits >>> (j + 12)) & 0x10;
      dst[to + j] = (((packed & 0x0f) | high0) - 16) * d;
      dst[to + j + 16] = (((packed >>> 4) | high1) - 16) * d;
    }
  }

  private static void q5_1(byte[] src, int block, float[] dst, int to) {
    float d = half(src, block);
    float m = half(src, block + 2);
    int highBits = int32(src, block + 4);
    for (int j = 0; j < 16; j++) {
      int packed = src[block + 8 + j] & 0xff;
      int high0 = ((highBits >>> j) << 4) & 0x10;
      int high1 = (highBits >>> (j + 12)) & 0x10;
      dst[to + j] = ((packed & 0x0f) | high0) * d + m;
      dst[to + j + 16] = ((packed >>> 4) | high1) * d + m;
    }
  }

  private static void q2_k(byte[] src, int block, float[] dst, int to) {
    int scales = block;
    int quants = block + 16;
    float d = half(src, block + 80);
    float min = half(src, block + 82);
    int y = to;
    int scale = 0;
    for (int half = 0; half < 2; half++) {
      int q = quants + 32 * half;
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; part++) {
          int packed = src[scales + scale++] & 0xff;
          float dl = d * (packed & 0x0f);
          float ml = min * (packed >>> 4);
          for (int l = 0; l < 16; l++) {
            dst[y++] = dl * (((src[q + 16 * part + l] & 0xff) >>> shift) & 3) - ml;
          }
        }
      }
    }
  }

  private static void q3_k(byte[] src, int block, float[] dst, int to) {
    int highMask = block;
    int quants = block + 32;
    float d = half(src, block + 108);
    int scales = block + 96;
    int y = to;
    int scale = 0;
    int bit = 1;
    for (int half = 0; half < 2; half++) {
      int q = quants + 32 * half;
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; part++) {
          float dl = d * (q3kScale(src, scales, scale++) - 32);
          for (int l = 0; l < 16; l++) {
            int index = 16 * part + l;
            int low = ((src[q + index] & 0xff) >>> shift) & 3;
            int offset = (src[highMask + index] & bit) != 0 ? 0 : 4;
            dst[y++] = dl * (low - offset);
          }
        }
        bit <<= 1;
      }
    }
  }

  /**
   * Scale {@code j} (0–15) of the 12-byte Q3_K scale field, unsigned and still biased by 32: bytes
   * 0–7 hold the low nibbles of scales 0–7 (low halves) and 8–15 (high halves), bytes 8–11 the two
   * high bits of each, four per byte.
   */
  static int q3kScale(byte[] src, int at, int j) {
    int low = j < 8 ? src[at + j] & 0x0f : (src[at + j - 8] & 0xff) >>> 4;
    int high = ((src[at + 8 + j % 4] & 0xff) >>> (2 * (j / 4))) & 3;
    return low | (high << 4);
  }

  private static void q4_k(byte[] src, int block, float[] dst, int to) {
    float d = half(src, block);
    float min = half(src, block + 2);
    int scales = block + 4;
    int q = block + 16;
    int y = to;
    for (int group = 0; group < 4; group++) {
      float d1 = d * scaleK4(src, scales, 2 * group);
      float m1 = min * minK4(src, scales, 2 * group);
      float d2 = d * scaleK4(src, scales, 2 * group + 1);
      float m2 = min * minK4(src, scales, 2 * group + 1);
      for (int l = 0; l < 32; l++) {
        dst[y++] = d1 * (src[q + l] & 0x0f) - m1;
      }
      for (int l = 0; l < 32; l++) {
        dst[y++] = d2 * ((src[q + l] & 0xff) >>> 4) - m2;
      }
      q += 32;
    }
  }

  private static void q5_k(byte[] src, int block, float[] dst, int to) {
    float d = half(src, block);
    float min = half(src, block + 2);
    int scales = block + 4;
    int highBits = block + 16;
    int q = block + 48;
    int y = to;
    for (int group = 0; group < 4; group++) {
      float d1 = d * scaleK4(src, scales, 2 * group);
      float m1 = min * minK4(src, scales, 2 * group);
      float d2 = d * scaleK4(src, scales, 2 * group + 1);
      float m2 = min * minK4(src, scales, 2 * group + 1);
      int bit1 = 1 << (2 * group);
      int bit2 = bit1 << 1;
      for (int l = 0; l < 32; l++) {
        int high = (src[highBits + l] & bit1) != 0 ? 16 : 0;
        dst[y++] = d1 * ((src[q + l] & 0x0f) + high) - m1;
      }
      for (int l = 0; l < 32; l++) {
        int high = (src[highBits + l] & bit2) != 0 ? 16 : 0;
        dst[y++] = d2 * (((src[q + l] & 0xff) >>> 4) + high) - m2;
      }
      q += 32;
    }
  }

  /**
   * Scale {@code j} (0–7) of the 12-byte Q4_K/Q5_K scale field (ggml's {@code get_scale_min_k4}):
   * scales 0–3 are the low 6 bits of bytes 0–3; scales 4–7 take their low nibble from bytes 8–11
   * and their two high bits from the top of bytes 0–3.
   */
  static int scaleK4(byte[] src, int at, int j) {
    if (j < 4) {
      return src[at + j] & 63;
    }
    return (src[at + j + 4] & 0x0f) | (((src[at + j - 4] & 0xff) >>> 6) << 4);
  }

  /** Minimum {@code j} (0–7) of the Q4_K/Q5_K scale field, laid out like the scales. */
  static int minK4(byte[] src, int at, int j) {
    if (j < 4) {
      return src[at + j + 4] & 63;
    }
    return ((src[at + j + 4] & 0xff) >>> 4) | (((src[at + j] & 0xff) >>> 6) << 4);
  }

  private static void q6_k(byte[] src, int block, float[] dst, int to) {
    float d = half(src, block + 208);
    int y = to;
    for (int half = 0; half < 2; half++) {
      int ql = block + 64 * half;
      int qh = block + 128 + 32 * half;
      int sc = block + 192 + 8 * half;
      for (int l = 0; l < 32; l++) {
        int is = l / 16;
        int low0 = src[ql + l] & 0xff;
        int low1 = src[ql + l + 32] & 0xff;
        int high = src[qh + l] & 0xff;
        int q1 = ((low0 & 0x0f) | ((high & 3) << 4)) - 32;
        int q2 = ((low1 & 0x0f) | (((high >>> 2) & 3) << 4)) - 32;
        int q3 = ((low0 >>> 4) | (((high >>> 4) & 3) << 4)) - 32;
        int q4 = ((low1 >>> 4) | (((high >>> 6) & 3) << 4)) - 32;
        dst[y + l] = d * src[sc + is] * q1;
        dst[y + l + 32] = d * src[sc + is + 2] * q2;
        dst[y + l + 64] = d * src[sc + is + 4] * q3;
        dst[y + l + 96] = d * src[sc + is + 6] * q4;
      }
      y += 128;
    }
  }

  /** The little-endian IEEE half at {@code src[at]}, as float32. */
  static float half(byte[] src, int at) {
    return Float16.halfToFloat(int16(src, at));
  }

  static short int16(byte[] src, int at) {
    return (short) ((src[at] & 0xff) | (src[at + 1] << 8));
  }

  static int int32(byte[] src, int at) {
    return (src[at] & 0xff)
        | ((src[at + 1] & 0xff) << 8)
        | ((src[at + 2] & 0xff) << 16)
        | (src[at + 3] << 24);
  }
}
