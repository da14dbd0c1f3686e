package io.specd.kernels.format;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Tensor element types of the GGML/GGUF format, with their on-disk block layout. specd reads the
 * float types {@link #F32}, {@link #F16}, {@link #BF16}, the 32-value block quantizations {@link
 * #Q8_0}, {@link #Q4_0}, {@link #Q4_1}, {@link #Q5_0}, {@link #Q5_1} and the 256-value K-quants
 * {@link #Q2_K}, {@link #Q3_K}, {@link #Q4_K}, {@link #Q5_K}, {@link #Q6_K}, exactly as ggml
 * encodes them (see {@code io.specd.kernels.quant}); the other types are listed so that an error
 * can name them.
 */
public enum GgmlType {
  F32(0, 1, 4),
  F16(1, 1, 2),
  Q4_0(2, 32, 18),
  Q4_1(3, 32, 20),
  Q5_0(6, 32, 22),
  Q5_1(7, 32, 24),
  Q8_0(8, 32, 34),
  Q8_1(9, 32, 36),
  Q2_K(10, 256, 84),
  Q3_K(11, 256, 110),
  Q4_K(12, 256, 144),
  Q5_K(13, 256, 176),
  Q6_K(14, 256, 210),
  Q8_K(15, 256, 292),
  IQ2_XXS(16, 256, 66),
  IQ2_XS(17, 256, 74),
  IQ3_XXS(18, 256, 98),
  IQ1_S(19, 256, 50),
  IQ4_NL(20, 32, 18),
  IQ3_S(21, 256, 110),
  IQ2_S(22, 256, 82),
  IQ4_XS(23, 256, 136),
  I8(24, 1, 1),
  I16(25, 1, 2),
  I32(26, 1, 4),
  I64(27, 1, 8),
  F64(28, 1, 8),
  IQ1_M(29, 256, 56),
  BF16(30, 1, 2),
  TQ1_0(34, 256, 54),
  TQ2_0(35, 256, 66);

  private final int id;
  private final int blockSize;
  private final int bytesPerBlock;

  GgmlType(int id, int blockSize, int bytesPerBlock) {
    this.id = id;
    this.blockSize = blockSize;
    this.bytesPerBlock = bytesPerBlock;
  }

  /** The numeric id stored in GGUF tensor infos. */
  public int id() {
    return id;
  }

  /** Whether specd reads tensors of this type (dequantizes them and computes on their blocks). */
  public boolean isSupported() {
    return switch (this) {
      case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> true;
      default -> false;
    };
  }

  /** The supported types' names in declaration order, for error messages ("F32, F16, ..."). */
  public static String supportedNames() {
    return Arrays.stream(values())
        .filter(GgmlType::isSupported)
        .map(Enum::name)
        .collect(Collectors.joining(", "));
  }

  /** Bytes that {@code elements} values of this type occupy on disk. */
  public long byteSize(long elements) {
    return elements / blockSize * bytesPerBlock;
  }

  /** Encoded bytes of one quantization block ({@link #blockSize()} values). */
  public int bytesPerBlock() {
    return bytesPerBlock;
  }

  /** Elements per quantization block (1 for plain float types). */
  public int blockSize() {
    return blockSize;
  }

  /** The type with the given GGUF id, if known. */
  public static Optional<GgmlType> byId(int id) {
    return Arrays.stream(values()).filter(t -> t.id == id).findFirst();
  }
}
