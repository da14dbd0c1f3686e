package io.specd.kernels.pad;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.specd.kernels.TestModels;
import io.specd.kernels.format.GgmlType;
import io.specd.kernels.generate.GenerationResult;
import io.specd.kernels.heads.BundledHeads;
import io.specd.kernels.heads.DrafterKind;
import io.specd.kernels.heads.HeadsBeside;
import io.specd.kernels.llama.Fingerprint;
import io.specd.kernels.llama.GgufWeightSource;
import io.specd.kernels.spec.AcceptanceMode;
import io.specd.kernels.spec.Drafter;
import io.specd.kernels.spec.SpeculativeDecoder;
import io.specd.policies.fixed.StaticPolicy;
import io.specd.policies.spec.Plan;
import io.specd.policies.spec.StopRule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The source's heads, padded beside the padded model, draft on it what they drafted on the source:
 * the output is plain greedy decoding and the mean accepted length is the source's.
 */
class PaddedHeadsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @org.junit.jupiter.api.io.TempDir static Path dir;
  private static PaddedDecoding source;
  private static PaddedDecoding padded;
  private static PaddedModel paddedModel;
  private static List<int[]> plain;

  @BeforeAll
  static void padModelAndHeads() throws IOException {
    source = new PaddedDecoding(TestModels.stories260K());
    PadPlan plan =
        PadPlan.of(source.model.config(), 128, 384, 8, GgmlType.F32, 3); // real layers 0,2,4,5,7
    paddedModel =
        ModelPadder.of(TestModels.stories260K(), plan).write(dir.resolve("wide.gguf"), w -> {});
    String sourceFingerprint = Fingerprint.of(GgufWeightSource.open(TestModels.stories260K()));
    for (DrafterKind kind : DrafterKind.values()) {
      HeadPadder.pad(
          kind,
          BundledHeads.find(kind, source.model).orElseThrow(),
          paddedModel,
          sourceFingerprint);
    }
    padded = new PaddedDecoding(paddedModel.path());
    plain = padded.plain();
  }

  @AfterAll
  static void close() {
    source.close();
    padded.close();
  }

  static Stream<Arguments> drafters() {
    return Stream.of(
        Arguments.of(DrafterKind.MEDUSA, Plan.tree(4, 32, 8, StopRule.NONE)),
        Arguments.of(DrafterKind.MEDUSA, Plan.chain(3, StopRule.NONE)),
        Arguments.of(DrafterKind.CLOVER, Plan.tree(5, 40, 8, StopRule.NONE)),
        Arguments.of(DrafterKind.CLOVER, Plan.chain(4, StopRule.NONE)),
        Arguments.of(DrafterKind.KANGAROO, Plan.chain(6, StopRule.confidence(0.6))),
        Arguments.of(DrafterKind.KANGAROO, Plan.tree(4, 12, 3, StopRule.NONE)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("drafters")
  void paddedHeadsShouldDraftOnThePaddedModelAsTheSourceHeadsOnTheSource(
      DrafterKind kind, Plan plan) {
    Path heads = HeadsBeside.find(kind, paddedModel.path()).orElseThrow();
    List<GenerationResult> onSource =
        speculative(source, kind, BundledHeads.find(kind, source.model).orElseThrow(), plan);
    List<GenerationResult> onPadded = speculative(padded, kind, heads, plan);
    long sourceAccepted = 0;
    long paddedAccepted = 0;
    for (int i = 0; i < plain.size(); i++) {
      assertThat(onPadded.get(i).tokens()).as("prompt %d", i).containsExactly(plain.get(i));
      assertThat(onPadded.get(i).tokens()).containsExactly(onSource.get(i).tokens());
      assertThat(onPadded.get(i).stats().steps())
          .as("steps of prompt %d", i)
          .isEqualTo(onSource.get(i).stats().steps());
      assertThat(onPadded.get(i).stats().meanAccepted())
          .isEqualTo(onSource.get(i).stats().meanAccepted());
      sourceAccepted += onSource.get(i).stats().acceptedTokens();
      paddedAccepted += onPadded.get(i).stats().acceptedTokens();
    }
    assertThat(paddedAccepted).isEqualTo(sourceAccepted).isPositive();
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void theConfigShouldNameThePaddedTarget(DrafterKind kind) throws IOException {
    JsonNode config =
        JSON.readTree(HeadsBeside.find(kind, paddedModel.path()).orElseThrow().toFile());
    assertThat(config.path("target").path("fingerprint").asText())
        .isEqualTo(padded.model.fingerprint());
    assertThat(config.path("target").path("dim").asInt()).isEqualTo(128);
    assertThat(config.path("target").path("layers").asInt()).isEqualTo(8);
    assertThat(config.path("padded_from").path("dim").asInt()).isEqualTo(64);
    if (kind == DrafterKind.KANGAROO) {
      assertThat(config.path("padded_from").path("exit_layer").asInt()).isEqualTo(1);
      assertThat(config.path("exit_layer").asInt()).isEqualTo(1);
    }
  }

  static Stream<DrafterKind> kinds() {
    return Stream.of(DrafterKind.values());
  }

  private static List<GenerationResult> speculative(
      PaddedDecoding on, DrafterKind kind, Path heads, Plan plan) {
    try (Drafter drafter = kind.load(on.model, heads, 1, on.pool.capacity())) {
      return on.decode(
          m ->
              new SpeculativeDecoder(
                  m.model,
                  m.pool,
                  drafter,
                  () -> new StaticPolicy("static", plan),
                  AcceptanceMode.LOSSLESS));
    }
  }
}
