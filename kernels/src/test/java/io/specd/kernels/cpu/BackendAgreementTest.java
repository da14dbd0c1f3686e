package io.specd.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.specd.kernels.TestModels;
import io.specd.kernels.llama.AncestorMask;
import io.specd.kernels.llama.ForwardOptions;
import io.specd.kernels.llama.ForwardResult;
import io.specd.kernels.llama.KvCache;
import io.specd.kernels.llama.KvCachePool;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.llama.SequenceInput;
import io.specd.kernels.torch.TorchBackend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@code java} backend against the {@code torch} backend, an independent implementation of the
 * same forward pass: logits of a prefill, of decoding steps and of a draft tree agree within 1e-4
 * relative to the logits' scale, and so do the hidden states drafters read — on two real models
 * (GGUF and Hugging Face), a qwen2 model and a padded Q8_0 one (the java backend's encoded,
 * multi-threaded path).
 */
class BackendAgreementTest {
  private static final double RELATIVE = 1e-4;
  private static final int[] TREE_PARENTS = {-1, 0, 0, 1, 1, 2, 3, 5};

  static Stream<Path> models() {
    return Stream.of(
        TestModels.stories260K(),
        TestModels.tinyStoriesQ8(),
        TestModels.model("TinyStories-656K"), // the Hugging Face checkpoint, tied embeddings
        TestModels.model("synthetic/synth-qwen2-F32.gguf"), // Q/K/V biases, NEOX RoPE
        TestModels.paddedWide());
  }

  @ParameterizedTest
  @MethodSource("models")
  void javaShouldComputeWhatTorchComputes(Path path) {
    try (LlamaModel java = LlamaModel.load(path, JavaBackend.automatic());
        LlamaModel torch = LlamaModel.load(path, TorchBackend.cpu())) {
      List<float[]> fromJava = run(java);
      List<float[]> fromTorch = run(torch);
      assertThat(fromJava).hasSameSizeAs(fromTorch);
      for (int i = 0; i < fromJava.size(); i++) {
        assertClose(fromJava.get(i), fromTorch.get(i), path.getFileName() + " output " + i);
      }
    }
  }

  /** Prefill, greedy decoding and a tree verification; every output copied. */
  private static List<float[]> run(LlamaModel model) {
    List<float[]> outputs = new ArrayList<>();
    int vocab = model.config().vocabularySize();
    try (KvCachePool pool = model.newCachePool(1, 256)) {
      KvCache cache = pool.allocate();
      int[] prompt = model.tokenizer().encodePrompt("Once upon a time, there was a little");
      ForwardResult prefill =
          model.forward(
              SequenceInput.causal(cache, prompt),
              ForwardOptions.allLogits(model.config()).withHidden(true, true).withResidualAfter(1));
      keep(outputs, prefill.logits(), prompt.length * vocab);
      keep(outputs, prefill.postNormHidden(), prompt.length * model.config().dim());
      keep(outputs, prefill.residualAfter(1), prompt.length * model.config().dim());
      cache.commitNext(prompt.length);
      int token = argmax(prefill.logits(), (prompt.length - 1) * vocab, vocab);
      for (int step = 0; step < 20; step++) {
        ForwardResult r =
            model.forward(
                SequenceInput.causal(cache, new int[] {token}),
                ForwardOptions.lastLogits(model.config()));
        keep(outputs, r.logits(), vocab);
        cache.commitNext(1);
        token = argmax(r.logits(), 0, vocab);
      }
      int[] tokens = {token, 403, 407, 261, 378, 319, 270, 292};
      int[] positions = new int[tokens.length];
      for (int i = 0; i < tokens.length; i++) {
        positions[i] = TREE_PARENTS[i] < 0 ? cache.length() : positions[TREE_PARENTS[i]] + 1;
      }
      ForwardResult tree =
          model.forward(
              new SequenceInput(
                  cache, cache.length(), tokens, positions, AncestorMask.tree(TREE_PARENTS)),
              ForwardOptions.allLogits(model.config()));
      keep(outputs, tree.logits(), tokens.length * vocab);
      cache.release();
    }
    return outputs;
  }

  private static void keep(List<float[]> outputs, float[] values, int count) {
    outputs.add(Arrays.copyOf(values, count));
  }

  private static int argmax(float[] values, int offset, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (values[offset + i] > values[offset + best]) {
        best = i;
      }
    }
    return best;
  }

  private static void assertClose(float[] actual, float[] expected, String what) {
    double scale = 0;
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    }
    assertThat(worst / scale)
        .as(what + ": largest difference relative to the largest value")
        .isLessThanOrEqualTo(RELATIVE);
  }
}
