package io.specd.kernels.llama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.kernels.HfExport;
import io.specd.kernels.TestModels;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.generate.AutoregressiveDecoder;
import io.specd.kernels.generate.GenerationRequest;
import io.specd.kernels.generate.TokenSink;
import io.specd.kernels.torch.TorchBackend;
import io.specd.policies.spec.SamplingParams;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Hugging Face directory written from the GGUF weights must run exactly like the GGUF file. */
class HuggingFaceModelTest {
  @TempDir static Path dir;
  private static Path hfDir;

  @BeforeAll
  static void export() throws Exception {
    hfDir = HfExport.export(TestModels.stories260K(), dir.resolve("stories260K-hf"));
  }

  @Test
  void shouldReadTheConfigAsTheGgufMetadataSays() {
    try (LlamaModel hf = LlamaModel.load(hfDir, TorchBackend.cpu());
        LlamaModel gguf = TestModels.loadStories260K()) {
      LlamaConfig h = hf.config();
      LlamaConfig g = gguf.config();
      assertThat(h.ropeType()).isEqualTo(RopeType.NEOX);
      assertThat(g.ropeType()).isEqualTo(RopeType.NORM);
      assertThat(h.withContextLength(g.contextLength()))
          .usingRecursiveComparison()
          .ignoringFields("ropeType")
          .isEqualTo(g);
    }
  }

  @Test
  void shouldGenerateTheSameTokensAsTheGgufModel() {
    try (LlamaModel hf = LlamaModel.load(hfDir, TorchBackend.cpu());
        LlamaModel gguf = TestModels.loadStories260K();
        KvCachePool hfPool = hf.newCachePool(1, 256);
        KvCachePool ggufPool = gguf.newCachePool(1, 256)) {
      int[] prompt = gguf.tokenizer().encodePrompt("Once upon a time");
      assertThat(hf.tokenizer().encodePrompt("Once upon a time")).containsExactly(prompt);
      GenerationRequest request = new GenerationRequest(prompt, 128, SamplingParams.GREEDY);
      assertThat(new AutoregressiveDecoder(hf, hfPool).generate(request, TokenSink.IGNORE).tokens())
          .containsExactly(
              new AutoregressiveDecoder(gguf, ggufPool)
                  .generate(request, TokenSink.IGNORE)
                  .tokens());
    }
  }

  @Test
  void shouldNameAMissingTensor() throws Exception {
    Path broken = dir.resolve("broken");
    Files.createDirectories(broken);
    Files.copy(hfDir.resolve("config.json"), broken.resolve("config.json"));
    Files.copy(hfDir.resolve("tokenizer.json"), broken.resolve("tokenizer.json"));
    Files.write(
        broken.resolve("model.safetensors"),
        Files.readAllBytes(hfDir.resolve("model.safetensors")));
    Files.writeString(
        broken.resolve("config.json"),
        Files.readString(broken.resolve("config.json"))
            .replace("\"num_hidden_layers\" : 5", "\"num_hidden_layers\" : 6"));
    assertThatThrownBy(() -> LlamaModel.load(broken, TorchBackend.cpu()))
        .isInstanceOf(ModelFormatException.class)
        .hasMessage(broken + ": missing tensor 'model.layers.5.input_layernorm.weight'");
  }

  @Test
  void shouldRejectATruncatedSafetensorsFile() throws Exception {
    Path cut = dir.resolve("cut");
    Files.createDirectories(cut);
    Files.copy(hfDir.resolve("config.json"), cut.resolve("config.json"));
    Files.copy(hfDir.resolve("tokenizer.json"), cut.resolve("tokenizer.json"));
    byte[] full = Files.readAllBytes(hfDir.resolve("model.safetensors"));
    Files.write(cut.resolve("model.safetensors"), java.util.Arrays.copyOf(full, full.length / 2));
    assertThatThrownBy(() -> LlamaModel.load(cut, TorchBackend.cpu()))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageStartingWith(cut.resolve("model.safetensors") + ": truncated: tensor");
  }
}
