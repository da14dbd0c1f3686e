package io.specd.kernels.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.LlamaConfig;
import io.specd.kernels.llama.SequenceInput;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The LLaMA forward pass on DJL (the {@code torch} backend, and head training): one entry point for
 * prefill, decoding and tree verification, for one sequence or a ragged batch of them, over any
 * range of layers.
 *
 * <p>Dimension legend: B sequences, M new tokens of the longest (shorter ones are padded), N = B·M
 * rows, T cache rows read, D model width, H query heads, K key/value heads, G = H/K heads per
 * group, E head size, F FFN width, V vocabulary.
 *
 * <p>Every op has a fixed cost of a few microseconds here, so the pass is written to issue few of
 * them: RMSNorm gains and the attention scale are folded into the weights, Q/K/V and gate/up are
 * one product each, RoPE is one batched product with per-position rotation matrices built on the
 * host, a single sequence reads and writes its cache through per-layer views with plain slices, and
 * a mask is only built when some token must not see some row.
 *
 * <p>Memory: everything the pass creates lives in an {@link NDScope} that closes before it returns;
 * only the requested outputs survive, attached to the caller's manager.
 */
public final class TorchForward {
  private TorchForward() {}

  /**
   * Runs layers {@code [options.fromLayer(), options.toLayer())} over a batch of sequences, writing
   * each new token's keys and values into its cache at rows {@code [start, start + n)}. The caches'
   * committed lengths do not change (see {@link KvCache#commit}).
   *
   * @param model the model (or a decoder stack)
   * @param sequences the batch (all caches from one pool)
   * @param inputHidden {@code [N, D]}: the residual stream entering {@code fromLayer}, required
   *     when it is not 0 (rows laid out as in {@link TorchOutputs}), else null
   * @param options what to run and return
   * @param out the manager the outputs are attached to
   * @return the requested outputs
   */
  public static TorchOutputs forward(
      TorchModel model,
      List<SequenceInput> sequences,
      NDArray inputHidden,
      ForwardOptions options,
      NDManager out) {
    Batch batch = Batch.of(model, sequences, inputHidden == null);
    try (NDManager step = out.newSubManager();
        NDScope scope = new NDScope()) {
      Step s = new Step(model, batch, step);
      // x: [N, D], the residual stream
      NDArray x =
          inputHidden != null
              ? inputHidden
              : model.weights().tokenEmbedding().get(new NDIndex("{}", s.tokens));
      Map<Integer, NDArray> residuals = new HashMap<>();
      keepResidual(options, options.fromLayer(), x, s, residuals);
      for (int l = options.fromLayer(); l < options.toLayer(); l++) {
        x = layer(x, l, s);
        keepResidual(options, l + 1, x, s, residuals);
      }
      NDArray last = s.selectRows(x, options.rows());
      NDArray postNorm = null;
      NDArray logits = null;
      if (options.postNormHidden() || options.logits()) {
        postNorm = rmsUnit(last, s.eps).mul(model.weights().outputNorm());
        if (options.logits()) {
          logits = postNorm.matMul(model.weights().lmHead()); // [rows, V]
        }
      }
      return new TorchOutputs(
          keep(logits, out),
          keep(options.postNormHidden() ? postNorm : null, out),
          keep(options.preNormHidden() ? last : null, out),
          keepAll(residuals, out),
          batch.size,
          batch.maxTokens,
          options.rows());
    }
  }

  private static void keepResidual(
      ForwardOptions options, int layers, NDArray x, Step s, Map<Integer, NDArray> residuals) {
    if (options.wantsResidualAfter(layers)) {
      residuals.put(layers, s.selectRows(x, options.rows()));
    }
  }

  /** One decoder layer: x + Attention(norm(x)), then + SwiGLU(norm(·)). */
  private static NDArray layer(NDArray x, int l, Step s) {
    LayerWeights w = s.model.weights().layers().get(l);
    Batch b = s.batch;
    LlamaConfig c = s.model.config();
    int kv = c.kvHeadCount();
    int e = c.headSize();
    int g = c.kvGroups();

    // attention rmsnorm (gain folded) and the fused QKV product
    NDArray projected = rmsUnit(x, s.eps).matMul(w.queryKeyValue());
    if (w.queryKeyValueBias() != null) {
      projected = projected.add(w.queryKeyValueBias());
    }
    NDList qkv = projected.split(new long[] {c.queryDim(), c.queryDim() + c.kvDim()}, 1);
    // RoPE: each row's heads times its position's rotation, R [N, E, E] (one batched product)
    NDArray q = qkv.get(0).reshape(b.rows, c.headCount(), e).matMul(s.rotations); // [N, H, E]
    NDArray k = qkv.get(1).reshape(b.rows, kv, e).matMul(s.rotations); // [N, K, E]
    NDArray v = qkv.get(2).reshape(b.rows, kv, e); // [N, K, E]

    // write the new keys and values to their cache rows, then read both as [B, K, E, T]
    NDArray cachedKeys;
    NDArray cachedValues;
    if (s.single != null) { // one sequence: its own per-layer views of the pool
      NDArray keyView = s.single.keyView(l); // [1, K, E, C]
      NDArray valueView = s.single.valueView(l); // [1, K, E, C]
      keyView.set(s.write, k);
      valueView.set(s.write, v);
      cachedKeys = prefix(keyView, 3, b.readLength);
      cachedValues = prefix(valueView, 3, b.readLength);
    } else if (b.pool == null) { // stateless (training): attend among the new tokens only
      cachedKeys = k.reshape(b.size, b.maxTokens, kv, e).transpose(0, 2, 3, 1);
      cachedValues = v.reshape(b.size, b.maxTokens, kv, e).transpose(0, 2, 3, 1);
    } else { // a batch: one scatter and one gather per tensor over the layer's slots
      NDArray keys = b.pool.keyLayer(l); // [S, K, E, C]
      NDArray values = b.pool.valueLayer(l); // [S, K, E, C]
      keys.set(s.write, k);
      values.set(s.write, v);
      cachedKeys = keys.get(s.read);
      cachedValues = values.get(s.read);
    }

    // scaled (folded into Wq) dot-product attention; q: [N, H, E] -> [B, K, M·G, E]
    NDArray scores =
        q.reshape(b.size, b.maxTokens, kv, g, e)
            .transpose(0, 2, 1, 3, 4)
            .reshape(b.size, kv, b.maxTokens * g, e)
            .matMul(cachedKeys); // [B, K, M·G, T]
    if (s.mask != null) {
      scores = scores.add(s.mask);
    }
    // values as Vᵀ·Pᵀ: [B, K, E, T] x [B, K, T, M·G] -> [B, K, E, M·G] (far faster than P·V when
    // E is small), then back to [N, H·E]
    NDArray attention =
        cachedValues
            .matMul(scores.softmax(-1).transpose(0, 1, 3, 2))
            .reshape(b.size, kv, e, b.maxTokens, g)
            .transpose(0, 3, 1, 4, 2)
            .reshape(b.rows, c.queryDim());
    x = x.add(attention.matMul(w.output()));

    if (w.gateUp() == null) { // an attention-only layer (Kangaroo's adapter)
      return x;
    }
    // ffn rmsnorm (gain folded), SwiGLU: down(silu(gate) * up)
    NDList gateUp = rmsUnit(x, s.eps).matMul(w.gateUp()).split(2, 1);
    NDArray gate = gateUp.get(0);
    NDArray activated = gate.mul(gate.getNDArrayInternal().sigmoid()).mul(gateUp.get(1));
    return x.add(activated.matMul(w.down()));
  }

  /**
   * The first {@code length} entries of {@code array} along {@code axis}, as a view (one op: DJL
   * turns a slice index into a slice per dimension, a split issues a single one).
   */
  private static NDArray prefix(NDArray array, int axis, int length) {
    if (length == array.getShape().get(axis)) {
      return array;
    }
    return array.split(new long[] {length}, axis).get(0);
  }

  /** RMSNorm without its gain: {@code x · (mean(x²) + eps)^-½} along the last axis. */
  public static NDArray rmsUnit(NDArray x, NDArray eps) {
    return x.div(x.square().mean(new int[] {-1}, true).add(eps).sqrt());
  }

  private static NDArray keep(NDArray array, NDManager out) {
    if (array == null) {
      return null;
    }
    NDScope.unregister(array);
    array.attach(out);
    return array;
  }

  private static Map<Integer, NDArray> keepAll(Map<Integer, NDArray> arrays, NDManager out) {
    Map<Integer, NDArray> kept = new HashMap<>();
    arrays.forEach((layers, array) -> kept.put(layers, keep(array, out)));
    return Map.copyOf(kept);
  }

  /** The host-side geometry of a batch: padding, write rows, read length and the mask. */
  private static final class Batch {
    final TorchKvCachePool pool;
    final List<SequenceInput> sequences;
    final int size;
    final int maxTokens;
    final int rows;
    final int readLength;
    final long[] tokens;
    final int[] positions;
    final long[] writeSlots;
    final long[] writeRows;
    final float[] mask;

    private Batch(
        TorchKvCachePool pool, List<SequenceInput> sequences, int groups, boolean needTokens) {
      this.pool = pool;
      this.sequences = sequences;
      this.size = sequences.size();
      int longest = 0;
      int read = 0;
      for (SequenceInput s : sequences) {
        longest = Math.max(longest, s.size());
        read = Math.max(read, s.start() + s.size());
      }
      this.maxTokens = longest;
      this.rows = size * longest;
      this.readLength = read;
      this.tokens = new long[rows];
      this.positions = new int[rows];
      this.writeSlots = new long[rows];
      this.writeRows = new long[rows];
      boolean masked = false;
      for (int b = 0; b < size; b++) {
        SequenceInput s = sequences.get(b);
        if (needTokens && !s.hasTokens()) {
          throw new IllegalArgumentException("sequence " + b + " has no tokens to embed");
        }
        for (int i = 0; i < longest; i++) {
          int row = b * longest + i;
          if (i < s.size()) {
            tokens[row] = needTokens ? s.token(i) : 0;
            positions[row] = s.position(i);
            writeSlots[row] = pool == null ? 0 : cache(s).slot();
            writeRows[row] = s.start() + i;
          } else { // padding: a harmless token written to the scratch slot
            writeSlots[row] = pool == null ? 0 : pool.scratchSlot();
            writeRows[row] = i;
          }
        }
        masked |= s.size() < longest || s.start() + s.size() < read || !s.mask().seesEverything();
      }
      this.mask = masked ? buildMask(groups) : null;
    }

    static Batch of(TorchModel model, List<SequenceInput> sequences, boolean needTokens) {
      if (sequences.isEmpty()) {
        throw new IllegalArgumentException("empty batch");
      }
      TorchKvCache first = cache(sequences.get(0));
      TorchKvCachePool pool = first == null ? null : first.pool();
      for (SequenceInput s : sequences) {
        if ((s.cache() == null ? null : cache(s).pool()) != pool) {
          throw new IllegalArgumentException(
              "all sequences of a batch must share one KV pool (or all have none)");
        }
        if (s.cache() != null && s.cache().isReleased()) {
          throw new IllegalStateException("a sequence's KV cache was released");
        }
      }
      return new Batch(pool, sequences, model.config().kvGroups(), needTokens);
    }

    /** Additive mask {@code [B, 1, M·G, T]}: 0 where visible, -inf elsewhere. */
    private float[] buildMask(int groups) {
      int t = readLength;
      float[] m = new float[size * maxTokens * groups * t];
      Arrays.fill(m, Float.NEGATIVE_INFINITY);
      for (int b = 0; b < size; b++) {
        SequenceInput s = sequences.get(b);
        int prefix = s.committed();
        for (int i = 0; i < maxTokens; i++) {
          for (int gi = 0; gi < groups; gi++) {
            int base = ((b * maxTokens + i) * groups + gi) * t;
            if (i >= s.size()) {
              m[base] = 0f; // padding rows look at row 0 so their softmax stays finite
              continue;
            }
            Arrays.fill(m, base, base + prefix, 0f);
            for (int w = 0; w < s.mask().window(); w++) {
              if (s.mask().visible(i, w)) {
                m[base + prefix + w] = 0f;
              }
            }
          }
        }
      }
      return m;
    }
  }

  /** Per-step device inputs shared by every layer. */
  private static final class Step {
    final TorchModel model;
    final Batch batch;
    final NDArray eps;
    final NDArray tokens;
    final NDArray rotations;
    final NDArray mask;
    // cache writes ((slot, row) per new token) and, for a batch, the slots to read
    final NDIndex write;
    final NDIndex read;
    final NDArray lastRows;

    /** The only sequence's cache when the batch has one, else null. */
    final TorchKvCache single;

    Step(TorchModel model, Batch batch, NDManager step) {
      this.model = model;
      this.batch = batch;
      LlamaConfig c = model.config();
      int e = c.headSize();
      this.eps = model.weights().rmsNormEps();
      this.tokens = step.create(batch.tokens);
      // R: [N, E, E], one rotation per row
      this.rotations =
          step.create(model.rope().matrices(batch.positions), new Shape(batch.rows, e, e));
      this.mask =
          batch.mask == null
              ? null
              : step.create(
                  batch.mask,
                  new Shape(batch.size, 1, batch.maxTokens * c.kvGroups(), batch.readLength));
      long[] last = new long[batch.size];
      for (int b = 0; b < batch.size; b++) {
        last[b] = (long) b * batch.maxTokens + batch.sequences.get(b).size() - 1;
      }
      this.lastRows = batch.size > 1 ? step.create(last) : null;
      if (batch.pool == null) {
        this.write = null;
        this.read = null;
        this.single = null;
        return;
      }
      // new rows go to (slot, row) pairs; as [1, N] index arrays on non-adjacent axes they give
      // the indexed shape [1, N, K, E], which k and v [N, K, E] broadcast to
      Shape indexShape = new Shape(1, batch.rows);
      NDArray rows = step.create(batch.writeRows, indexShape);
      if (batch.size > 1) {
        long[] slots = new long[batch.size];
        for (int b = 0; b < batch.size; b++) {
          slots[b] = cache(batch.sequences.get(b)).slot();
        }
        this.write = new NDIndex("{}, :, :, {}", step.create(batch.writeSlots, indexShape), rows);
        this.read = new NDIndex("{}, :, :, :" + batch.readLength, step.create(slots));
        this.single = null;
      } else {
        this.write = new NDIndex("{}, :, :, {}", step.zeros(indexShape, DataType.INT64), rows);
        this.read = null;
        this.single = cache(batch.sequences.get(0));
      }
    }

    /** The rows the outputs cover: all {@code [N, …]}, or each sequence's last {@code [B, …]}. */
    NDArray selectRows(NDArray x, ForwardOptions.Rows rows) {
      if (rows == ForwardOptions.Rows.ALL) {
        return x;
      }
      if (lastRows == null) {
        int last = batch.sequences.get(0).size() - 1;
        return batch.rows == 1 ? x : x.get(new NDIndex().addSliceDim(last, last + 1));
      }
      return x.get(new NDIndex("{}", lastRows));
    }
  }

  /** A sequence's cache on this backend, or null for a stateless sequence. */
  private static TorchKvCache cache(SequenceInput s) {
    KvCache cache = s.cache();
    if (cache == null) {
      return null;
    }
    if (!(cache instanceof TorchKvCache torch)) {
      throw new IllegalArgumentException("a KV cache of another backend: " + cache);
    }
    return torch;
  }
}
