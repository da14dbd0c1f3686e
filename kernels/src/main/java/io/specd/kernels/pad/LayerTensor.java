package io.specd.kernels.pad;

import io.specd.kernels.llama.LlamaConfig;
import java.util.Arrays;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * The tensors of a decoder layer and how each is padded, by the GGUF name suffix ({@code
 * attn_q.weight}) and the Hugging Face one ({@code self_attn.q_proj.weight}) that drafter
 * checkpoints use.
 *
 * <p>A source layer keeps its values. Whatever reads the residual stream (Q, K, V, gate, up) gets
 * random weights in its new input columns, which only ever meet zeros, and random new rows: the
 * extra attention heads and FFN units compute something real. Whatever writes the residual stream
 * (the attention output and FFN down projections) gets zeros in its new rows, so the extra
 * dimensions stay exactly zero, and zeros in its new columns, so the extra heads and units add
 * nothing. Gains are multiplied by √(d/D). A dead layer is random where it reads and zero where it
 * writes: it costs a real layer's work and changes nothing.
 */
enum LayerTensor {
  ATTENTION_NORM("attn_norm.weight", "input_layernorm.weight"),
  QUERY("attn_q.weight", "self_attn.q_proj.weight"),
  KEY("attn_k.weight", "self_attn.k_proj.weight"),
  VALUE("attn_v.weight", "self_attn.v_proj.weight"),
  OUTPUT("attn_output.weight", "self_attn.o_proj.weight"),
  FFN_NORM("ffn_norm.weight", "post_attention_layernorm.weight"),
  GATE("ffn_gate.weight", "mlp.gate_proj.weight"),
  UP("ffn_up.weight", "mlp.up_proj.weight"),
  DOWN("ffn_down.weight", "mlp.down_proj.weight");

  private final String ggufSuffix;
  private final String huggingFaceSuffix;

  LayerTensor(String ggufSuffix, String huggingFaceSuffix) {
    this.ggufSuffix = ggufSuffix;
    this.huggingFaceSuffix = huggingFaceSuffix;
  }

  String ggufSuffix() {
    return ggufSuffix;
  }

  static Optional<LayerTensor> byGgufSuffix(String suffix) {
    return Arrays.stream(values()).filter(t -> t.ggufSuffix.equals(suffix)).findFirst();
  }

  static Optional<LayerTensor> byHuggingFaceSuffix(String suffix) {
    return Arrays.stream(values()).filter(t -> t.huggingFaceSuffix.equals(suffix)).findFirst();
  }

  /**
   * The row-major shape in a model of configuration {@code c}: {@code [out, in]} or {@code [n]}.
   */
  int[] shape(LlamaConfig c) {
    return switch (this) {
      case ATTENTION_NORM, FFN_NORM -> new int[] {c.dim()};
      case QUERY -> new int[] {c.queryDim(), c.dim()};
      case KEY, VALUE -> new int[] {c.kvDim(), c.dim()};
      case OUTPUT -> new int[] {c.dim(), c.queryDim()};
      case GATE, UP -> new int[] {c.ffnDim(), c.dim()};
      case DOWN -> new int[] {c.dim(), c.ffnDim()};
    };
  }

  /** Whether the tensor writes the residual stream (its padding must be zero). */
  private boolean writesResidual() {
    return this == OUTPUT || this == DOWN;
  }

  private boolean isGain() {
    return this == ATTENTION_NORM || this == FFN_NORM;
  }

  /**
   * The padded tensor of a source layer.
   *
   * @param source row-major values of {@link #shape} in the source configuration
   */
  float[] pad(float[] source, PadPlan plan, RandomGenerator random) {
    int[] from = shape(plan.source());
    int[] to = shape(plan.target());
    if (source.length != Arrays.stream(from).reduce(1, Math::multiplyExact)) {
      throw new IllegalArgumentException(
          this + " of the source should have shape " + Arrays.toString(from));
    }
    if (isGain()) {
      return MatrixPadding.gain(source, to[0], plan.normScale());
    }
    Fill fill = writesResidual() ? Fill.ZERO : Fill.RANDOM;
    return MatrixPadding.pad(source, from[0], from[1], to[0], to[1], fill, fill, random);
  }

  /** The tensor of a dead layer: random where it reads, zero where it writes. */
  float[] dead(PadPlan plan, RandomGenerator random) {
    int[] to = shape(plan.target());
    if (isGain()) {
      return MatrixPadding.gain(new float[0], to[0], plan.normScale());
    }
    return MatrixPadding.filled(to[0] * to[1], writesResidual() ? Fill.ZERO : Fill.RANDOM, random);
  }
}
