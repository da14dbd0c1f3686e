package io.specd.kernels.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.specd.kernels.format.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json}, run by DJL's binding of the Rust tokenizers library.
 * Special tokens written in the text are always recognised (the library has no switch for it).
 * Thread-safe (the native tokenizer is).
 */
public final class HuggingFaceTextTokenizer implements TextTokenizer, AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final int vocabularySize;
  private final int bosId;
  private final int eosId;

  private HuggingFaceTextTokenizer(
      HuggingFaceTokenizer tokenizer, int vocabularySize, int bosId, int eosId) {
    this.tokenizer = tokenizer;
    this.vocabularySize = vocabularySize;
    this.bosId = bosId;
    this.eosId = eosId;
  }

  /**
   * Loads {@code tokenizer.json}.
   *
   * @param file the tokenizer.json path
   * @param vocabularySize the model's vocabulary size (ids at or above it are rejected)
   */
  public static HuggingFaceTextTokenizer load(Path file, int vocabularySize, int bosId, int eosId) {
    if (!Files.isRegularFile(file)) {
      throw new ModelFormatException(file, "no tokenizer.json next to the model");
    }
    try {
      HuggingFaceTokenizer tokenizer =
          HuggingFaceTokenizer.newInstance(
              file, Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
      return new HuggingFaceTextTokenizer(tokenizer, vocabularySize, bosId, eosId);
    } catch (IOException | RuntimeException e) {
      throw new ModelFormatException(file, "cannot load the tokenizer: " + e.getMessage(), e);
    }
  }

  @Override
  public int[] encode(List<TextPiece> pieces, boolean addSpecial) {
    StringBuilder text = new StringBuilder();
    pieces.forEach(piece -> text.append(piece.text()));
    Encoding encoding = tokenizer.encode(text.toString(), addSpecial, false);
    long[] ids = encoding.getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  @Override
  public String decode(int[] tokens, boolean renderSpecial) {
    long[] ids = new long[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i] < 0 || tokens[i] >= vocabularySize) {
        throw new IllegalArgumentException(
            "token id " + tokens[i] + " is outside the vocabulary of " + vocabularySize);
      }
      ids[i] = tokens[i];
    }
    return tokenizer.decode(ids, !renderSpecial);
  }

  @Override
  public String piece(int token) {
    return tokenizer.decode(new long[] {token}, false);
  }

  @Override
  public int vocabularySize() {
    return vocabularySize;
  }

  @Override
  public int bosId() {
    return bosId;
  }

  @Override
  public int eosId() {
    return eosId;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
