package io.specd.kernels.train;

import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.sample.Sampler;
import io.specd.kernels.sample.SamplingWorkspace;
import io.specd.policies.spec.SamplingParams;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * Self-distillation data: the target writes its own training text and the hidden states each head
 * kind learns from. Sequences start from built-in story openings or from BOS alone, are sampled
 * with a seeded generator (many sequences in one batched forward per token), and are then run
 * through the target once more, stateless, to record per position the post-norm last hidden state
 * (Medusa's input and Clover-2's regression target), the pre-norm last hidden state (Clover-2's
 * input) and the residual stream after the exit layer (Kangaroo's input). Host memory only.
 */
public final class DistillationCorpus {
  private static final int GENERATION_BATCH = 16;
  private static final int FEATURE_BATCH = 8;

  /**
   * What to generate.
   *
   * @param sequences how many sequences
   * @param length tokens per sequence, prompt included (shorter when the model ends a story)
   * @param temperature sampling temperature of the generation after the opening
   * @param openingTokens tokens sampled at temperature 1 right after the prompt, so that even a
   *     greedy corpus continues from many different contexts
   * @param seed generator seed (same seed, same corpus)
   * @param exitLayer record the residual stream after this many layers, or 0 for none
   */
  public record Spec(
      int sequences, int length, double temperature, int openingTokens, long seed, int exitLayer) {
    public Spec {
      if (sequences < 1 || length < 8) {
        throw new IllegalArgumentException("a corpus needs sequences >= 1 and length >= 8");
      }
    }
  }

  /**
   * One sequence and its features, {@code [T, D]} row-major each.
   *
   * @param tokens the sequence (BOS first)
   * @param postNorm post-norm last hidden state per position
   * @param preNorm pre-norm last hidden state per position
   * @param shallow residual stream after the exit layer per position, or null
   */
  public record Sequence(int[] tokens, float[] postNorm, float[] preNorm, float[] shallow) {
    public int length() {
      return tokens.length;
    }
  }

  private final int dim;
  private final List<Sequence> sequences;

  private DistillationCorpus(int dim, List<Sequence> sequences) {
    this.dim = dim;
    this.sequences = List.copyOf(sequences);
  }

  /** The built-in story openings (one a line); BOS-only starts are mixed in by {@link #build}. */
  public static List<String> builtInPrompts() {
    try (InputStream in = DistillationCorpus.class.getResourceAsStream("prompts.txt")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .lines()
          .filter(l -> !l.isBlank())
          .toList();
    } catch (IOException e) {
      throw new IllegalStateException("the built-in training prompts are missing", e);
    }
  }

  /**
   * Generates and featurises a corpus.
   *
   * @param prompts openings to continue; every fourth sequence starts from BOS alone
   * @param progress receives the number of sequences finished so far
   */
  public static DistillationCorpus build(
      LlamaModel model, List<String> prompts, Spec spec, IntConsumer progress) {
    List<int[]> texts = generate(model, prompts, spec);
    List<Sequence> sequences = new ArrayList<>();
    for (int from = 0; from < texts.size(); from += FEATURE_BATCH) {
      sequences.addAll(
          features(model, texts.subList(from, Math.min(texts.size(), from + FEATURE_BATCH)), spec));
      progress.accept(sequences.size());
    }
    return new DistillationCorpus(model.config().dim(), sequences);
  }

  private static List<int[]> generate(LlamaModel model, List<String> prompts, Spec spec) {
    int eos = model.config().eosId();
    SamplingParams sampling = SamplingParams.ofTemperature(spec.temperature(), spec.seed());
    SamplingParams opening = SamplingParams.ofTemperature(1.0, spec.seed());
    int vocab = model.config().vocabularySize();
    SamplingWorkspace workspace = new SamplingWorkspace(vocab);
    List<int[]> done = new ArrayList<>();
    try (KvCachePool pool = model.newCachePool(GENERATION_BATCH, spec.length())) {
      for (int first = 0; first < spec.sequences(); first += GENERATION_BATCH) {
        int count = Math.min(GENERATION_BATCH, spec.sequences() - first);
        List<int[]> texts = new ArrayList<>();
        int[] promptLengths = new int[count];
        List<SplittableRandom> randoms = new ArrayList<>();
        List<KvCache> caches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          int index = first + i;
          String prompt = index % 4 == 3 ? "" : prompts.get(index % prompts.size());
          int[] tokens =
              prompt.isEmpty()
                  ? new int[] {model.config().bosId()}
                  : model.tokenizer().encodePrompt(prompt);
          texts.add(Arrays.copyOf(tokens, Math.min(tokens.length, spec.length() - 1)));
          promptLengths[i] = texts.get(i).length;
          randoms.add(new SplittableRandom(spec.seed() * 1_000_003L + index));
          caches.add(pool.allocate());
        }
        boolean[] finished = new boolean[count];
        int[][] pending = new int[count][];
        for (int i = 0; i < count; i++) {
          pending[i] = texts.get(i);
        }
        while (true) {
          List<SequenceInput> inputs = new ArrayList<>();
          List<Integer> active = new ArrayList<>();
          for (int i = 0; i < count; i++) {
            if (!finished[i]) {
              inputs.add(SequenceInput.causal(caches.get(i), pending[i]));
              active.add(i);
            }
          }
          if (inputs.isEmpty()) {
            break;
          }
          ForwardResult result =
              model.forward(inputs, null, ForwardOptions.lastLogits(model.config()));
          for (int a = 0; a < active.size(); a++) {
            int i = active.get(a);
            caches.get(i).commitNext(pending[i].length);
            int[] text = texts.get(i);
            boolean inOpening = text.length < promptLengths[i] + spec.openingTokens();
            int next =
                Sampler.sample(
                    result.logits(),
                    result.logitsOffset(result.row(a, 0)),
                    vocab,
                    inOpening ? opening : sampling,
                    randoms.get(i),
                    workspace);
            if (next == eos || text.length + 1 >= spec.length()) {
              finished[i] = true;
            }
            if (next != eos) {
              text = Arrays.copyOf(text, text.length + 1);
              text[text.length - 1] = next;
              texts.set(i, text);
            }
            pending[i] = new int[] {next};
          }
        }
        caches.forEach(KvCache::release);
        done.addAll(texts);
      }
    }
    return done;
  }

  private static List<Sequence> features(LlamaModel model, List<int[]> texts, Spec spec) {
    int dim = model.config().dim();
    ForwardOptions options =
        new ForwardOptions(
            0,
            model.config().layerCount(),
            ForwardOptions.Rows.ALL,
            false,
            true,
            true,
            spec.exitLayer() > 0 ? new int[] {spec.exitLayer()} : new int[0]);
    List<SequenceInput> inputs =
        texts.stream().map(t -> SequenceInput.stateless(t, t.length)).toList();
    ForwardResult result = model.forward(inputs, null, options);
    float[] shallow = spec.exitLayer() > 0 ? result.residualAfter(spec.exitLayer()) : null;
    List<Sequence> sequences = new ArrayList<>();
    for (int b = 0; b < texts.size(); b++) {
      int[] tokens = texts.get(b);
      int from = result.hiddenOffset(result.row(b, 0));
      int to = from + tokens.length * dim;
      sequences.add(
          new Sequence(
              tokens,
              Arrays.copyOfRange(result.postNormHidden(), from, to),
              Arrays.copyOfRange(result.preNormHidden(), from, to),
              shallow == null ? null : Arrays.copyOfRange(shallow, from, to)));
    }
    return sequences;
  }

  public int dim() {
    return dim;
  }

  public List<Sequence> sequences() {
    return sequences;
  }

  /** Total tokens. */
  public long tokens() {
    return sequences.stream().mapToLong(Sequence::length).sum();
  }
}
