package io.specd.kernels;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a Hugging Face directory (config.json, model.safetensors, tokenizer.json) from a GGUF
 * llama model, undoing llama.cpp's Q/K row permutation so the checkpoint uses HF's half-split RoPE.
 */
public final class HfExport {
  private static final ObjectMapper JSON = new ObjectMapper();

  private HfExport() {}

  public static Path export(Path ggufPath, Path dir) throws IOException {
    GgufFile gguf = GgufFile.open(ggufPath);
    Files.createDirectories(dir);
    int dim = (int) gguf.integer("llama.embedding_length");
    int heads = (int) gguf.integer("llama.attention.head_count");
    int kvHeads = (int) gguf.integer("llama.attention.head_count_kv");
    int layers = (int) gguf.integer("llama.block_count");
    int ffn = (int) gguf.integer("llama.feed_forward_length");
    List<String> tokens = gguf.strings("tokenizer.ggml.tokens");

    ObjectNode config = JSON.createObjectNode();
    config.putArray("architectures").add("LlamaForCausalLM");
    config.put("model_type", "llama");
    config.put("hidden_size", dim);
    config.put("intermediate_size", ffn);
    config.put("num_attention_heads", heads);
    config.put("num_key_value_heads", kvHeads);
    config.put("num_hidden_layers", layers);
    config.put(
        "rms_norm_eps", gguf.optionalReal("llama.attention.layer_norm_rms_epsilon").orElse(1e-5));
    config.put("rope_theta", 10000.0);
    config.put("max_position_embeddings", (int) gguf.integer("llama.context_length"));
    config.put("vocab_size", tokens.size());
    config.put("bos_token_id", 1);
    config.put("eos_token_id", 2);
    config.put("tie_word_embeddings", false);
    JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);

    SafetensorsWriter weights = new SafetensorsWriter();
    int vocab = tokens.size();
    weights.put("model.embed_tokens.weight", gguf.readFloats("token_embd.weight"), vocab, dim);
    weights.put("model.norm.weight", gguf.readFloats("output_norm.weight"), dim);
    weights.put("lm_head.weight", gguf.readFloats("output.weight"), vocab, dim);
    int headSize = dim / heads;
    for (int l = 0; l < layers; l++) {
      String g = "blk." + l + ".";
      String h = "model.layers." + l + ".";
      weights.put(h + "input_layernorm.weight", gguf.readFloats(g + "attn_norm.weight"), dim);
      weights.put(
          h + "self_attn.q_proj.weight",
          unpermute(gguf.readFloats(g + "attn_q.weight"), heads, headSize, dim),
          heads * headSize,
          dim);
      weights.put(
          h + "self_attn.k_proj.weight",
          unpermute(gguf.readFloats(g + "attn_k.weight"), kvHeads, headSize, dim),
          kvHeads * headSize,
          dim);
      weights.put(
          h + "self_attn.v_proj.weight",
          gguf.readFloats(g + "attn_v.weight"),
          kvHeads * headSize,
          dim);
      weights.put(
          h + "self_attn.o_proj.weight",
          gguf.readFloats(g + "attn_output.weight"),
          dim,
          heads * headSize);
      weights.put(
          h + "post_attention_layernorm.weight", gguf.readFloats(g + "ffn_norm.weight"), dim);
      weights.put(h + "mlp.gate_proj.weight", gguf.readFloats(g + "ffn_gate.weight"), ffn, dim);
      weights.put(h + "mlp.up_proj.weight", gguf.readFloats(g + "ffn_up.weight"), ffn, dim);
      weights.put(h + "mlp.down_proj.weight", gguf.readFloats(g + "ffn_down.weight"), dim, ffn);
    }
    weights.write(dir.resolve("model.safetensors"));
    writeTokenizer(gguf, dir.resolve("tokenizer.json"));
    return dir;
  }

  /** GGUF row h·E + 2i + j holds HF row h·E + j·E/2 + i (llama.cpp's permute, inverted). */
  private static float[] unpermute(float[] gguf, int heads, int headSize, int dim) {
    float[] hf = new float[gguf.length];
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < headSize / 2; i++) {
        for (int j = 0; j < 2; j++) {
          int from = h * headSize + 2 * i + j;
          int to = h * headSize + j * headSize / 2 + i;
          System.arraycopy(gguf, from * dim, hf, to * dim, dim);
        }
      }
    }
    return hf;
  }

  /**
   * A SentencePiece-BPE tokenizer.json (the layout of Llama 2's) built from the GGUF vocabulary.
   */
  private static void writeTokenizer(GgufFile gguf, Path file) throws IOException {
    List<String> tokens = gguf.strings("tokenizer.ggml.tokens");
    float[] scores = gguf.optionalFloats("tokenizer.ggml.scores").orElseThrow();
    int[] types = gguf.optionalInts("tokenizer.ggml.token_type").orElseThrow();
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int id = 0; id < tokens.size(); id++) {
      if (types[id] == 2 || types[id] == 3) {
        ObjectNode t = added.addObject();
        t.put("id", id);
        t.put("content", tokens.get(id));
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
      }
    }
    ObjectNode normalizer = root.putObject("normalizer");
    normalizer.put("type", "Sequence");
    ArrayNode normalizers = normalizer.putArray("normalizers");
    normalizers.addObject().put("type", "Prepend").put("prepend", "\u2581");
    ObjectNode replace = normalizers.addObject().put("type", "Replace");
    replace.putObject("pattern").put("String", " ");
    replace.put("content", "\u2581");
    root.putNull("pre_tokenizer");
    ObjectNode post = root.putObject("post_processor");
    post.put("type", "TemplateProcessing");
    ArrayNode single = post.putArray("single");
    single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
    single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    ArrayNode pair = post.putArray("pair");
    pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
    pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 1);
    pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
    ObjectNode bos = post.putObject("special_tokens").putObject("<s>");
    bos.put("id", "<s>");
    bos.putArray("ids").add(1);
    bos.putArray("tokens").add("<s>");
    ObjectNode decoder = root.putObject("decoder");
    decoder.put("type", "Sequence");
    ArrayNode decoders = decoder.putArray("decoders");
    ObjectNode unescape = decoders.addObject().put("type", "Replace");
    unescape.putObject("pattern").put("String", "\u2581");
    unescape.put("content", " ");
    decoders.addObject().put("type", "ByteFallback");
    decoders.addObject().put("type", "Fuse");
    decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.put("unk_token", "<unk>");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", true);
    model.put("byte_fallback", true);
    ObjectNode vocab = model.putObject("vocab");
    for (int id = 0; id < tokens.size(); id++) {
      vocab.put(tokens.get(id), id);
    }
    // merges: every split of a normal token into two tokens, ranked by the merged token's score
    List<Object[]> merges = new ArrayList<>();
    for (int id = 0; id < tokens.size(); id++) {
      if (types[id] != 1) {
        continue;
      }
      String piece = tokens.get(id);
      for (int cut = 1; cut < piece.length(); cut++) {
        String left = piece.substring(0, cut);
        String right = piece.substring(cut);
        int l = tokens.indexOf(left);
        int r = tokens.indexOf(right);
        if (l >= 0 && r >= 0) {
          merges.add(new Object[] {scores[id], l, r, left + " " + right});
        }
      }
    }
    merges.sort(
        (a, b) -> {
          int byScore = Float.compare((Float) b[0], (Float) a[0]);
          if (byScore != 0) {
            return byScore;
          }
          int byLeft = Integer.compare((Integer) a[1], (Integer) b[1]);
          return byLeft != 0 ? byLeft : Integer.compare((Integer) a[2], (Integer) b[2]);
        });
    ArrayNode mergeArray = model.putArray("merges");
    merges.forEach(m -> mergeArray.add((String) m[3]));
    JSON.writeValue(file.toFile(), root);
  }
}
