package io.specd.kernels.quant;

import io.specd.kernels.format.GgmlType;
import java.util.EnumMap;
import java.util.Map;

/** The one kernel instance of each supported type. */
final class RowKernels {
  private static final Map<GgmlType, RowKernel> KERNELS = kernels();

  private RowKernels() {}

  static RowKernel of(GgmlType type) {
    RowKernel kernel = KERNELS.get(type);
    if (kernel == null) {
      throw new IllegalArgumentException(
          "no CPU kernel for tensor type "
              + type
              + " (supported: "
              + GgmlType.supportedNames()
              + ")");
    }
    return kernel;
  }

  private static Map<GgmlType, RowKernel> kernels() {
    Map<GgmlType, RowKernel> kernels = new EnumMap<>(GgmlType.class);
    for (RowKernel kernel :
        new RowKernel[] {
          new F32RowKernel(),
          new F16RowKernel(),
          new BF16RowKernel(),
          new Q8_0RowKernel(),
          new Q4_0RowKernel(),
          new Q4_1RowKernel(),
          new Q5_0RowKernel(),
          new Q5_1RowKernel(),
          new Q2_KRowKernel(),
          new Q3_KRowKernel(),
          new Q4_KRowKernel(),
          new Q5_KRowKernel(),
          new Q6_KRowKernel()
        }) {
      kernels.put(kernel.type(), kernel);
    }
    return kernels;
  }
}
