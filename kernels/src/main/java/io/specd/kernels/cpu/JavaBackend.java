package io.specd.kernels.cpu;

import io.specd.kernels.llama.Backend;
import io.specd.kernels.llama.HostLayer;
import io.specd.kernels.llama.Linear;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.Transformer;
import io.specd.kernels.llama.WeightSource;
import java.util.ArrayList;
import java.util.List;

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

  private final int threads;
  private Parallel parallel = new Parallel(1);

  /**
   * @param threads threads per product, or 0 to decide per model
   */
  public JavaBackend(int threads) {
    this.threads = threads;
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
    int dim = c.dim();
    int vocab = c.vocabularySize();
    float[] embedding = source.read("model.embed_tokens.weight", vocab, dim);
    List<JavaLayer> layers = new ArrayList<>();
    for (int l = 0; l < c.layerCount(); l++) {
      layers.add(layer(HostLayer.read(source::read, "model.layers." + l + ".", c, true), c));
    }
    float[] lmHead =
        source.has("lm_head.weight") ? source.read("lm_head.weight", vocab, dim) : embedding;
    return new JavaModel(
        c,
        EmbeddingTable.of(embedding, dim),
        layers,
        source.read("model.norm.weight", dim),
        matrix(lmHead, vocab, dim),
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
    return new JavaLinear(matrix(weight, outputs, inputs), parallel);
  }

  private static JavaLayer layer(HostLayer h, LlamaConfig c) {
    int d = c.dim();
    int f = c.ffnDim();
    boolean ffn = h.ffnNorm() != null;
    return new JavaLayer(
        h.attentionNorm(),
        matrix(h.query(), c.queryDim(), d),
        matrix(h.key(), c.kvDim(), d),
        matrix(h.value(), c.kvDim(), d),
        matrix(h.output(), d, c.queryDim()),
        h.ffnNorm(),
        ffn ? matrix(h.gate(), f, d) : null,
        ffn ? matrix(h.up(), f, d) : null,
        ffn ? matrix(h.down(), d, f) : null);
  }

  /** A float32 matrix {@code [rows, columns]}: transposed when narrow, row-major otherwise. */
  static WeightMatrix matrix(float[] weight, int rows, int columns) {
    return columns < TRANSPOSE_BELOW
        ? new TransposedMatrix(weight, rows, columns)
        : new RowMatrix(weight, rows, columns);
  }
}
