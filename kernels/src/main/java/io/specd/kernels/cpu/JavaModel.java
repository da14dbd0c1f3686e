package io.specd.kernels.cpu;

import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.Linear;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.RopeRotations;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.llama.Transformer;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A LLaMA model (or a drafter's decoder stack) on the {@code java} backend: the forward pass in
 * plain Java with the Vector API, over weights in the encodings of {@link WeightMatrix}.
 *
 * <p>A batch runs as one pass over the weights: every sequence's new tokens are rows of the same
 * products (no padding); attention runs per token over its own sequence's {@link PagedKvCache}.
 * Every buffer lives in this model and grows to the largest batch it has seen; a forward allocates
 * nothing once the buffers fit. Not thread-safe (the device actor owns it): a forward entered while
 * another runs fails at once rather than mixing two batches in one workspace.
 *
 * <p>Dimension legend: N new tokens of the batch, D model width, H query heads, K key/value heads,
 * E head size, F FFN width, V vocabulary.
 */
final class JavaModel implements Transformer {
  private final LlamaConfig config;
  private final EmbeddingTable embedding; // [V, D], or null for a decoder stack
  private final List<JavaLayer> layers;
  private final float[] outputNorm; // [D], or null for a decoder stack
  private final WeightMatrix lmHead; // [V, D], or null for a decoder stack
  private final Linear lmHeadLinear;
  private final RopeRotations rope;
  private final Parallel parallel;
  private final boolean ownsParallel;
  private final Products products;
  private final AttentionJob attention;
  private final float queryScale;
  private final Workspace work = new Workspace();
  private final AtomicBoolean running = new AtomicBoolean();
  private PagedKvCachePool statelessPool;

  /**
   * @param parallel the threads products split across
   * @param ownsParallel close the pool with the model
   */
  JavaModel(
      LlamaConfig config,
      EmbeddingTable embedding,
      List<JavaLayer> layers,
      float[] outputNorm,
      WeightMatrix lmHead,
      Parallel parallel,
      boolean ownsParallel) {
    this.config = config;
    this.embedding = embedding;
    this.layers = List.copyOf(layers);
    this.outputNorm = outputNorm;
    this.lmHead = lmHead;
    this.parallel = parallel;
    this.ownsParallel = ownsParallel;
    this.products = new Products(parallel);
    this.lmHeadLinear = lmHead == null ? null : new JavaLinear(lmHead, parallel);
    this.rope = new RopeRotations(config);
    this.attention =
        new AttentionJob(parallel, config.headCount(), config.kvHeadCount(), config.headSize());
    this.queryScale = (float) (1.0 / Math.sqrt(config.headSize()));
  }

  @Override
  public LlamaConfig config() {
    return config;
  }

  @Override
  public ForwardResult forward(
      List<SequenceInput> sequences, float[] inputHidden, ForwardOptions options) {
    if (!running.compareAndSet(false, true)) {
      throw new IllegalStateException(
          "two threads ran forwards of one java-backend model at once; it serves one owner");
    }
    try {
      return forwardAlone(sequences, inputHidden, options);
    } finally {
      running.set(false);
    }
  }

  private ForwardResult forwardAlone(
      List<SequenceInput> sequences, float[] inputHidden, ForwardOptions options) {
    int batch = sequences.size();
    work.layout(sequences);
    int n = work.rows;
    int d = config.dim();
    work.fit(config, n, options);
    acquireStatelessCaches(sequences);
    try {
      float[] x = work.x;
      if (inputHidden != null) {
        System.arraycopy(inputHidden, 0, x, 0, n * d);
      } else {
        embed(sequences, x);
      }
      prepareRows(sequences);
      attention.layout(sequences, n);
      for (int b = 0; b < batch; b++) {
        attention.cache(b, cacheOf(sequences.get(b), b));
      }
      keepResidual(options, options.fromLayer(), x, n);
      for (int l = options.fromLayer(); l < options.toLayer(); l++) {
        layer(l, sequences, n);
        keepResidual(options, l + 1, x, n);
      }
      return outputs(options, batch, n);
    } finally {
      releaseStatelessCaches(sequences);
    }
  }

  /** x[row] = the embedding of each new token. */
  private void embed(List<SequenceInput> sequences, float[] x) {
    if (embedding == null) {
      throw new IllegalArgumentException("a decoder stack runs over hidden states, not tokens");
    }
    int d = config.dim();
    int row = 0;
    for (int b = 0; b < sequences.size(); b++) { // indexed: an iterator might not be scalarized
      SequenceInput s = sequences.get(b);
      if (!s.hasTokens()) {
        throw new IllegalArgumentException("a sequence has no tokens to embed");
      }
      for (int i = 0; i < s.size(); i++, row++) {
        embedding.row(s.token(i), x, row * d);
      }
    }
  }

  /** Per new token: the RoPE cosines and sines of its position and the last row it sees. */
  private void prepareRows(List<SequenceInput> sequences) {
    int pairs = rope.pairs();
    int row = 0;
    for (int b = 0; b < sequences.size(); b++) { // indexed: an iterator might not be scalarized
      SequenceInput s = sequences.get(b);
      for (int i = 0; i < s.size(); i++, row++) {
        rope.angles(s.position(i), work.cos, work.sin, row * pairs);
        work.limits[row] = s.committed() + lastVisible(s, i) + 1;
      }
    }
  }

  /** One decoder layer: x + Attention(norm(x)), then + SwiGLU(norm(·)). */
  private void layer(int l, List<SequenceInput> sequences, int n) {
    JavaLayer w = layers.get(l);
    int d = config.dim();
    float eps = config.rmsNormEps();
    float[] x = work.x;
    float[] xb = work.xb;

    // attention rmsnorm, QKV products
    for (int r = 0; r < n; r++) {
      VectorMath.rmsNorm(x, r * d, d, w.attentionNorm(), eps, xb, r * d);
    }
    products.multiply(w.query(), work.q, w.key(), work.k, w.value(), work.v, xb, n);
    if (w.queryBias() != null) {
      for (int r = 0; r < n; r++) {
        VectorMath.add(work.q, r * config.queryDim(), w.queryBias(), 0, config.queryDim());
        VectorMath.add(work.k, r * config.kvDim(), w.keyBias(), 0, config.kvDim());
        VectorMath.add(work.v, r * config.kvDim(), w.valueBias(), 0, config.kvDim());
      }
    }

    // RoPE on queries and keys, the attention scale on queries; keys and values to the caches
    int qd = config.queryDim();
    int kvd = config.kvDim();
    int row = 0;
    for (int b = 0; b < sequences.size(); b++) {
      SequenceInput s = sequences.get(b);
      PagedKvCache cache = cacheOf(s, b);
      cache.ensureRows(s.start() + s.size());
      for (int i = 0; i < s.size(); i++, row++) {
        rotate(work.q, row * qd, config.headCount(), row);
        rotate(work.k, row * kvd, config.kvHeadCount(), row);
        VectorMath.scale(work.q, row * qd, qd, queryScale, work.q, row * qd);
        cache.write(l, s.start() + i, work.k, row * kvd, work.v, row * kvd);
      }
    }

    // attention of every new token over its own sequence's cache
    attention.attend(l, work.q, work.limits, work.attention, n);

    // output projection and residual
    products.multiply(w.output(), work.attention, 0, n, xb);
    VectorMath.add(x, 0, xb, 0, n * d);
    if (!w.hasFfn()) {
      return; // an attention-only layer (Kangaroo's adapter)
    }

    // ffn rmsnorm, SwiGLU: down(silu(gate) * up), residual
    for (int r = 0; r < n; r++) {
      VectorMath.rmsNorm(x, r * d, d, w.ffnNorm(), eps, xb, r * d);
    }
    products.multiply(w.gate(), work.gate, w.up(), work.up, xb, n);
    int f = config.ffnDim();
    VectorMath.silu(work.gate, 0, n * f);
    VectorMath.multiply(work.gate, 0, work.up, 0, n * f, work.gate, 0);
    products.multiply(w.down(), work.gate, 0, n, xb);
    VectorMath.add(x, 0, xb, 0, n * d);
  }

  /** The window row of the last row new token {@code i} sees (the causal case: itself). */
  private static int lastVisible(SequenceInput s, int i) {
    int window = s.mask().window();
    for (int w = window - 1; w >= 0; w--) {
      if (s.mask().visible(i, w)) {
        return w;
      }
    }
    return -1;
  }

  /** Rotates the rotated dimensions of every head of one row (RoPE). */
  private void rotate(float[] values, int offset, int heads, int row) {
    int pairs = rope.pairs();
    int e = config.headSize();
    for (int h = 0; h < heads; h++) {
      int head = offset + h * e;
      for (int i = 0; i < pairs; i++) {
        float cos = work.cos[row * pairs + i];
        float sin = work.sin[row * pairs + i];
        int a = head + rope.first(i);
        int b = head + rope.second(i);
        float va = values[a];
        float vb = values[b];
        values[a] = va * cos - vb * sin;
        values[b] = va * sin + vb * cos;
      }
    }
  }

  private void keepResidual(ForwardOptions options, int layers, float[] x, int n) {
    if (options.wantsResidualAfter(layers)) {
      float[] kept = work.residual(layers, n * config.dim());
      copyRows(options, x, config.dim(), kept);
    }
  }

  /** The requested rows of {@code from} ({@code [N, width]}) into {@code to}. */
  private void copyRows(ForwardOptions options, float[] from, int width, float[] to) {
    if (options.rows() == ForwardOptions.Rows.ALL) {
      System.arraycopy(from, 0, to, 0, work.rows * width);
      return;
    }
    for (int b = 0; b < work.batch; b++) {
      System.arraycopy(from, (work.firstRows[b + 1] - 1) * width, to, b * width, width);
    }
  }

  private ForwardResult outputs(ForwardOptions options, int batch, int n) {
    int d = config.dim();
    int rows = options.rows() == ForwardOptions.Rows.ALL ? n : batch;
    float[] preNorm = null;
    float[] postNorm = null;
    float[] logits = null;
    if (options.preNormHidden()) {
      preNorm = work.preNorm;
      copyRows(options, work.x, d, preNorm);
    }
    if (options.postNormHidden() || options.logits()) {
      postNorm = work.postNorm;
      copyRows(options, work.x, d, postNorm);
      for (int r = 0; r < rows; r++) {
        VectorMath.rmsNorm(postNorm, r * d, d, outputNorm, config.rmsNormEps(), postNorm, r * d);
      }
      if (options.logits()) {
        logits = work.logits;
        products.multiply(lmHead, postNorm, 0, rows, logits);
      }
    }
    return work.result(
        options, config, logits, options.postNormHidden() ? postNorm : null, preNorm);
  }

  /** The cache of sequence {@code b} of the batch (a scratch one for a stateless sequence). */
  private PagedKvCache cacheOf(SequenceInput s, int b) {
    KvCache cache = s.cache();
    if (cache == null) {
      return work.statelessCaches[b];
    }
    if (!(cache instanceof PagedKvCache paged)) {
      throw new IllegalArgumentException("a KV cache of another backend: " + cache);
    }
    if (cache.isReleased()) {
      throw new IllegalStateException("a sequence's KV cache was released");
    }
    return paged;
  }

  /**
   * Sequences without a cache (training features) attend among their own tokens: scratch caches.
   */
  private void acquireStatelessCaches(List<SequenceInput> sequences) {
    boolean any = false;
    for (int b = 0; b < sequences.size(); b++) { // indexed: an iterator might not be scalarized
      SequenceInput s = sequences.get(b);
      any |= s.cache() == null;
    }
    if (!any) {
      return;
    }
    if (statelessPool == null || statelessPool.freeSlots() < sequences.size()) {
      statelessPool =
          new PagedKvCachePool(config, Math.max(sequences.size(), 16), config.contextLength());
    }
    work.statelessCaches = new PagedKvCache[sequences.size()];
    for (int b = 0; b < sequences.size(); b++) {
      if (sequences.get(b).cache() == null) {
        work.statelessCaches[b] = (PagedKvCache) statelessPool.allocate();
      }
    }
  }

  private void releaseStatelessCaches(List<SequenceInput> sequences) {
    if (work.statelessCaches == null) {
      return;
    }
    for (PagedKvCache cache : work.statelessCaches) {
      if (cache != null) {
        cache.release();
      }
    }
    work.statelessCaches = null;
  }

  @Override
  public KvCachePool newCachePool(int slots, int capacity) {
    return new PagedKvCachePool(config, slots, capacity);
  }

  @Override
  public Linear lmHead() {
    return lmHeadLinear;
  }

  @Override
  public float[] outputNorm() {
    return outputNorm == null ? null : outputNorm.clone();
  }

  @Override
  public void close() {
    if (ownsParallel) {
      parallel.close();
    }
  }
}
