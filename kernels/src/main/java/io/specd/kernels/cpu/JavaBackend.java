package io.specd.kernels.cpu;

import io.specd.kernels.format.GgmlType;
import io.specd.kernels.format.TensorBytes;
import io.specd.kernels.format.TensorEncoder;
import io.specd.kernels.llama.Backend;
import io.specd.kernels.llama.HostLayer;
import io.specd.kernels.llama.Linear;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.Transformer;
import io.specd.kernels.llama.WeightSource;
import io.specd.kernels.quant.SplitQ8_0Rows;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code java} backend: the forward pass in plain Java with the JDK Vector API, the CPU
 * default. Narrow matrices (inputs below {@link #TRANSPOSE_BELOW}) are repacked transposed in
 * float32, where broadcast-and-FMA products beat per-row dot products; the threads a model's
 * products split across are decided at load (one for models narrower than {@link #PARALLEL_FROM},
 * where handing out work costs more than it saves; every core otherwise).
 */
public final class JavaBackend implements Backend {
  /** Matrices with fewer inputs than this are stored transposed. */
  static final int TRANSPOSE_BELOW = 512;

  /** Models at least this wide split their products across every core by default. */
  static final int PARALLEL_FROM = 512;

  /** Share of the maximum heap that split Q8_0 weights may take; beyond it they stay mapped. */
  static final double SPLIT_HEAP_SHARE = 0.75;

  private final int threads;
  private final double splitHeapShare;
  private Parallel parallel = new Parallel(1);
  private long splitBudget;

  /**
   * @param threads threads per product, or 0 to decide per model
   */
  public JavaBackend(int threads) {
    this(threads, SPLIT_HEAP_SHARE);
  }

  /**
   * @param threads threads per product, or 0 to decide per model
   * @param splitHeapShare share of the maximum heap that split Q8_0 weights may take (0: all
   *     mapped)
   */
  JavaBackend(int threads, double splitHeapShare) {
    this.threads = threads;
    this.splitHeapShare = splitHeapShare;
  }

  /** One thread per product, or every core for wide models. */
  public static JavaBackend automatic() {
    return new JavaBackend(0);
  }

  @Override
  public String name() {
    return "java";
  }

  @Override
  public Transformer load(WeightSource source) {
    LlamaConfig c = source.config();
    int count =
        threads > 0
            ? threads
            : c.dim() < PARALLEL_FROM ? 1 : Runtime.getRuntime().availableProcessors();
    parallel = new Parallel(count);
    splitBudget = (long) (Runtime.getRuntime().maxMemory() * splitHeapShare);
    int dim = c.dim();
    int vocab = c.vocabularySize();
    int qd = c.queryDim();
    int kvd = c.kvDim();
    int f = c.ffnDim();
    List<JavaLayer> layers = new ArrayList<>();
    for (int l = 0; l < c.layerCount(); l++) {
      String p = "model.layers." + l + ".";
      layers.add(
          new JavaLayer(
              source.read(p + "input_layernorm.weight", dim),
              matrix(source, p + "self_attn.q_proj.weight", qd, dim),
              matrix(source, p + "self_attn.k_proj.weight", kvd, dim),
              matrix(source, p + "self_attn.v_proj.weight", kvd, dim),
              matrix(source, p + "self_attn.o_proj.weight", dim, qd),
              source.read(p + "post_attention_layernorm.weight", dim),
              matrix(source, p + "mlp.gate_proj.weight", f, dim),
              matrix(source, p + "mlp.up_proj.weight", f, dim),
              matrix(source, p + "mlp.down_proj.weight", dim, f),
              bias(source, p + "self_attn.q_proj.bias", qd),
              bias(source, p + "self_attn.k_proj.bias", kvd),
              bias(source, p + "self_attn.v_proj.bias", kvd)));
    }
    return new JavaModel(
        c,
        embedding(source, source.embeddingName(), vocab, dim),
        layers,
        source.read("model.norm.weight", dim),
        matrix(source, source.lmHeadName(), vocab, dim),
        parallel,
        true);
  }

  @Override
  public Transformer stack(LlamaConfig config, List<HostLayer> layers) {
    List<JavaLayer> converted = new ArrayList<>();
    layers.forEach(layer -> converted.add(layer(layer, config)));
    return new JavaModel(config, null, converted, null, null, parallel, false);
  }

  @Override
  public Linear linear(float[] weight, int outputs, int inputs) {
    return new JavaLinear(drafterMatrix(weight, outputs, inputs), parallel);
  }

  private static JavaLayer layer(HostLayer h, LlamaConfig c) {
    int d = c.dim();
    int f = c.ffnDim();
    boolean ffn = h.ffnNorm() != null;
    return new JavaLayer(
        h.attentionNorm(),
        drafterMatrix(h.query(), c.queryDim(), d),
        drafterMatrix(h.key(), c.kvDim(), d),
        drafterMatrix(h.value(), c.kvDim(), d),
        drafterMatrix(h.output(), d, c.queryDim()),
        h.ffnNorm(),
        ffn ? drafterMatrix(h.gate(), f, d) : null,
        ffn ? drafterMatrix(h.up(), f, d) : null,
        ffn ? drafterMatrix(h.down(), d, f) : null,
        h.queryBias(),
        h.keyBias(),
        h.valueBias());
  }

  /** An optional bias vector (Qwen 2's attention biases), or null when the model has none. */
  private static float[] bias(WeightSource source, String name, int size) {
    return source.has(name) ? source.read(name, size) : null;
  }

  /**
   * A model's matrix: narrow ones dequantized and transposed; wide Q8_0 ones split on the heap
   * while they fit in {@link #SPLIT_HEAP_SHARE} of it (read from the file, not through the mapping,
   * so the process holds them once); other wide ones kept in their file encoding, memory-mapped,
   * when the source can map them.
   */
  private WeightMatrix matrix(WeightSource source, String name, int rows, int columns) {
    if (columns >= TRANSPOSE_BELOW) {
      Optional<TensorBytes> encoded = source.encoded(name, rows, columns);
      if (encoded.isPresent()) {
        TensorBytes tensor = encoded.get();
        long splitBytes = SplitQ8_0Rows.heapBytes(rows, columns);
        if (tensor.type() == GgmlType.Q8_0
            && splitBytes <= splitBudget
            && (long) rows * columns <= Integer.MAX_VALUE) {
          splitBudget -= splitBytes;
          return new SplitQ8_0Matrix(
              SplitQ8_0Rows.split(
                  rows, columns, (first, count, into) -> tensor.readRows(first, count, into, 0)));
        }
        return EncodedMatrix.mapped(tensor);
      }
    }
    return floatMatrix(source.read(name, rows, columns), rows, columns);
  }

  /** Token embeddings: float32 on the heap for narrow models, else rows decoded on look-up. */
  private static EmbeddingTable embedding(WeightSource source, String name, int vocab, int dim) {
    if (dim >= TRANSPOSE_BELOW) {
      Optional<TensorBytes> encoded = source.encoded(name, vocab, dim);
      if (encoded.isPresent()) {
        return EmbeddingTable.of(EncodedMatrix.mapped(encoded.get()));
      }
    }
    return EmbeddingTable.of(source.read(name, vocab, dim), dim);
  }

  /**
   * A drafter's matrix (heads and drafter layers arrive as float32): narrow ones transposed, wide
   * ones quantized to Q8_0 and split on the heap, which a drafter reads every step like the
   * target's own weights (drafts only propose: verification keeps the output exact).
   */
  static WeightMatrix drafterMatrix(float[] weight, int rows, int columns) {
    if (columns >= TRANSPOSE_BELOW && columns % GgmlType.Q8_0.blockSize() == 0) {
      ByteBuffer encoded = TensorEncoder.encode(GgmlType.Q8_0, weight);
      int rowBytes = Math.toIntExact(GgmlType.Q8_0.byteSize(columns));
      return new SplitQ8_0Matrix(
          SplitQ8_0Rows.split(
              rows,
              columns,
              (first, count, into) -> encoded.get(first * rowBytes, into, 0, count * rowBytes)));
    }
    return floatMatrix(weight, rows, columns);
  }

  /** A float32 matrix {@code [rows, columns]}: transposed when narrow, row-major otherwise. */
  static WeightMatrix floatMatrix(float[] weight, int rows, int columns) {
    return columns < TRANSPOSE_BELOW
        ? new TransposedMatrix(weight, rows, columns)
        : new RowMatrix(weight, rows, columns);
  }
}
