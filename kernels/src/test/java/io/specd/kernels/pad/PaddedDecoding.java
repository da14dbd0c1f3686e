package io.specd.kernels.pad;

import io.specd.kernels.cpu.JavaBackend;
import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.Decoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.GenerationResult;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.policies.spec.SamplingParams;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A model loaded on the java backend with a one-slot KV pool, decoding the test prompts greedily.
 */
final class PaddedDecoding implements AutoCloseable {
  static final int TOKENS = 64;
  private static final int PROMPTS = 6;

  final LlamaModel model;
  final KvCachePool pool;

  PaddedDecoding(Path path) {
    this.model = LlamaModel.load(path, JavaBackend.automatic());
    this.pool = model.newCachePool(1, 512);
  }

  /** The first prompts of the lossless tests, as token ids (with BOS). */
  List<int[]> prompts() {
    try (InputStream in =
        PaddedDecoding.class.getResourceAsStream("/io/specd/kernels/spec/lossless-prompts.txt")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .lines()
          .filter(line -> !line.isBlank())
          .limit(PROMPTS)
          .map(line -> model.tokenizer().encodePrompt(line))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Greedy results of a decoder built on this model, one per prompt. */
  List<GenerationResult> decode(Function<PaddedDecoding, Decoder> decoder) {
    Decoder d = decoder.apply(this);
    List<GenerationResult> results = new ArrayList<>();
    for (int[] prompt : prompts()) {
      results.add(
          d.generate(
              new GenerationRequest(prompt, TOKENS, SamplingParams.GREEDY), TokenSink.IGNORE));
    }
    return results;
  }

  /** Plain autoregressive greedy tokens, one list per prompt. */
  List<int[]> plain() {
    return decode(m -> new AutoregressiveDecoder(m.model, m.pool)).stream()
        .map(GenerationResult::tokens)
        .toList();
  }

  @Override
  public void close() {
    pool.close();
    model.close();
  }
}
