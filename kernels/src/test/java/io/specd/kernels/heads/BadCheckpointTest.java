package io.specd.kernels.heads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.TestModels;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.format.SafetensorsWriter;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.torch.TorchModel;
import io.specd.kernels.train.CloverWeights;
import io.specd.kernels.train.KangarooWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Head checkpoints that do not fit are refused with one message naming the file and every problem:
 * missing tensors, wrong shapes, heads of another kind or made for another model.
 */
class BadCheckpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static LlamaModel model;
  private static int dim;

  @TempDir Path directory;

  @BeforeAll
  static void load() {
    model = TestModels.loadStories260K();
    dim = model.config().dim();
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @Test
  void shouldLoadWellFormedCheckpointsOfEveryKind() throws IOException {
    for (DrafterKind kind : DrafterKind.values()) {
      Path checkpoint = write(kind, tensors(kind), config -> {});
      try (Drafter drafter = kind.load(model, checkpoint, 1, 64)) {
        assertThat(drafter.name()).isEqualTo(kind.id());
      }
    }
  }

  @Test
  void shouldNameEveryMissingMedusaTensor() throws IOException {
    SafetensorsWriter tensors = medusa(2, dim);
    SafetensorsWriter partial = new SafetensorsWriter();
    tensors
        .tensors()
        .forEach(
            (name, t) -> {
              if (!name.equals("1.0.linear.bias") && !name.equals("0.0.linear.bias")) {
                partial.put(name, t.values(), t.shape());
              }
            });
    Path checkpoint = write(DrafterKind.MEDUSA, partial, config -> {});
    assertThatThrownBy(() -> DrafterKind.MEDUSA.load(model, checkpoint, 1, 64))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining(checkpoint.getFileName().toString())
        .hasMessageContaining("missing tensor '0.0.linear.bias'")
        .hasMessageContaining("missing tensor '1.0.linear.bias'");
  }

  @Test
  void shouldRefuseMedusaHeadsOfAnotherWidth() throws IOException {
    Path checkpoint = write(DrafterKind.MEDUSA, medusa(2, 32), config -> config.remove("target"));
    assertThatThrownBy(() -> DrafterKind.MEDUSA.load(model, checkpoint, 1, 64))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("tensor '0.0.linear.weight' has shape [32, 32], expected [64, 64]");
  }

  @Test
  void shouldRefuseASafetensorsFileWithoutMedusaHeads() throws IOException {
    Path bare = directory.resolve("other.safetensors");
    new SafetensorsWriter().put("layers.0.weight", new float[4], 2, 2).write(bare);
    assertThatThrownBy(() -> DrafterKind.MEDUSA.load(model, bare, 1, 64))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("no Medusa head tensors");
  }

  @Test
  void shouldRefuseHeadsMadeForAnotherModel() throws IOException {
    for (DrafterKind kind : DrafterKind.values()) {
      Path checkpoint =
          write(
              kind,
              tensors(kind),
              config -> {
                ObjectNode target = (ObjectNode) config.get("target");
                target.put("model", "tinyllama-1.1b.gguf");
                target.put("fingerprint", "0123456789abcdef");
              });
      assertThatThrownBy(() -> kind.load(model, checkpoint, 1, 64))
          .isInstanceOf(ModelFormatException.class)
          .hasMessageContaining("trained for tinyllama-1.1b.gguf (fingerprint 0123456789abcdef)")
          .hasMessageContaining("not for " + model.source().getFileName());
    }
  }

  @Test
  void shouldRefuseHeadsOfAnotherKind() throws IOException {
    Path clover = write(DrafterKind.CLOVER, tensors(DrafterKind.CLOVER), config -> {});
    assertThatThrownBy(() -> DrafterKind.MEDUSA.load(model, clover, 1, 64))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("these are clover heads, not medusa heads");
  }

  @Test
  void shouldNameMissingAndMisShapedKangarooTensors() throws IOException {
    SafetensorsWriter tensors = new SafetensorsWriter();
    tensors(DrafterKind.KANGAROO)
        .tensors()
        .forEach(
            (name, t) -> {
              if (name.equals("layers.0.self_attn.q_proj.weight")) {
                tensors.put(name, new float[dim * 8], 8, dim);
              } else if (!name.equals("norm.weight")) {
                tensors.put(name, t.values(), t.shape());
              }
            });
    tensors.put("layers.0.mlp.up_proj.weight", new float[dim], 1, dim);
    Path checkpoint = write(DrafterKind.KANGAROO, tensors, config -> {});
    assertThatThrownBy(() -> DrafterKind.KANGAROO.load(model, checkpoint, 1, 64))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("missing tensor 'norm.weight'")
        .hasMessageContaining(
            "tensor 'layers.0.self_attn.q_proj.weight' has shape [8, 64], expected [64, 64]")
        .hasMessageContaining("unexpected tensor 'layers.0.mlp.up_proj.weight'");
  }

  @Test
  void shouldNameMissingCloverTensors() throws IOException {
    SafetensorsWriter tensors = new SafetensorsWriter();
    tensors(DrafterKind.CLOVER)
        .tensors()
        .forEach(
            (name, t) -> {
              if (!name.startsWith("clover_head_mlp2.")) {
                tensors.put(name, t.values(), t.shape());
              }
            });
    Path checkpoint = write(DrafterKind.CLOVER, tensors, config -> {});
    assertThatThrownBy(() -> DrafterKind.CLOVER.load(model, checkpoint, 1, 64))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("missing tensor 'clover_head_mlp2.weight'")
        .hasMessageContaining("missing tensor 'clover_head_mlp2.bias'");
  }

  @Test
  void shouldNameAConfigWhoseWeightsFileIsMissing() throws IOException {
    Path checkpoint = write(DrafterKind.MEDUSA, medusa(2, dim), config -> {});
    Files.delete(directory.resolve("medusa.safetensors"));
    assertThatThrownBy(() -> DrafterKind.MEDUSA.load(model, checkpoint, 1, 64))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("medusa.safetensors");
  }

  @Test
  void shouldRefuseAJsonFileThatIsNoCheckpoint() throws IOException {
    Path config = directory.resolve("config.json");
    Files.writeString(config, "{\"architectures\": [\"LlamaForCausalLM\"]}");
    assertThatThrownBy(() -> DrafterKind.KANGAROO.load(model, config, 1, 64))
        .isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("not a head checkpoint config");
  }

  /** A well-formed checkpoint's tensors for a kind, from the kind's initial weights. */
  private static SafetensorsWriter tensors(DrafterKind kind) {
    SafetensorsWriter out = new SafetensorsWriter();
    try (NDManager manager = TorchModel.of(model).manager().newSubManager()) {
      switch (kind) {
        case MEDUSA -> {
          return medusa(3, dim);
        }
        case CLOVER -> CloverWeights.initial(model, 1, 7, manager).export(out, model.config());
        case KANGAROO -> KangarooWeights.initial(model, 2, manager).export(out, model.config());
      }
    }
    return out;
  }

  /** Medusa heads (one block each, shared LM head) of a given width. */
  private static SafetensorsWriter medusa(int heads, int width) {
    SafetensorsWriter out = new SafetensorsWriter();
    for (int k = 0; k < heads; k++) {
      out.put(k + ".0.linear.weight", new float[width * width], width, width);
      out.put(k + ".0.linear.bias", new float[width], width);
    }
    return out;
  }

  private Path write(DrafterKind kind, SafetensorsWriter tensors, Consumer<ObjectNode> edit)
      throws IOException {
    ObjectNode config = JSON.createObjectNode();
    config.put("kind", kind.id());
    config.set("target", HeadCheckpoint.target(model));
    if (kind == DrafterKind.KANGAROO) {
      config.put("exit_layer", 2);
    }
    edit.accept(config);
    Path path = directory.resolve(kind.id() + ".json");
    HeadCheckpoint.write(path, config, tensors);
    return path;
  }
}
