package io.specd.streams.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.specd.kernels.format.GgufFile;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.tokenizer.GgufTokenizers;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code specd tokenize}: the token ids of a text, as the model's tokenizer gives them. Only the
 * tokenizer is read, so a vocabulary-only GGUF (no tensors) is enough.
 */
@Command(
    name = "tokenize",
    mixinStandardHelpOptions = true,
    description = {
      "Print the token ids of a text (--text, else standard input), separated by spaces.",
      "With --jsonl, read one JSON string per line and print one JSON array of ids per line."
    })
final class TokenizeCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;
  @Mixin ModelOptions modelOptions;

  @Option(names = "--text", paramLabel = "T", description = "The text (default: standard input).")
  String text;

  @Option(names = "--no-bos", description = "Do not add the model's BOS token.")
  boolean noBos;

  @Option(
      names = {"--special", "--parse-special"},
      description = "Recognise control tokens written in the text (e.g. <|im_start|>).")
  boolean parseSpecial;

  @Option(names = "--pieces", description = "Print one token per line: its id and its piece.")
  boolean pieces;

  @Option(
      names = "--jsonl",
      description = "Read JSON strings, one per line; print a JSON array of ids for each.")
  boolean jsonl;

  @Override
  public Integer call() throws IOException {
    TextTokenizer tokenizer = tokenizer(modelOptions.path());
    PrintWriter out = spec.commandLine().getOut();
    BufferedReader input =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    if (jsonl) {
      for (String line = input.readLine(); line != null; line = input.readLine()) {
        JsonNode node = JSON.readTree(line);
        if (node == null || !node.isTextual()) {
          throw new IllegalArgumentException(
              "--jsonl reads one JSON string per line, got: " + line);
        }
        out.println(JSON.writeValueAsString(encode(tokenizer, node.asText())));
      }
    } else {
      int[] ids = encode(tokenizer, text != null ? text : readAll(input));
      if (pieces) {
        for (int id : ids) {
          out.println(id + "\t" + JSON.writeValueAsString(tokenizer.piece(id)));
        }
      } else {
        out.println(
            Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
      }
    }
    out.flush();
    return 0;
  }

  private int[] encode(TextTokenizer tokenizer, String value) {
    return tokenizer.encode(value, !noBos, parseSpecial);
  }

  private static String readAll(BufferedReader input) throws IOException {
    StringBuilder all = new StringBuilder();
    char[] buffer = new char[8192];
    for (int n = input.read(buffer); n >= 0; n = input.read(buffer)) {
      all.append(buffer, 0, n);
    }
    return all.toString();
  }

  /** A GGUF file's tokenizer (no tensors needed), or a Hugging Face directory's. */
  private static TextTokenizer tokenizer(Path model) {
    return Files.isDirectory(model)
        ? LlamaModel.open(model).tokenizer()
        : GgufTokenizers.read(GgufFile.open(model));
  }
}
