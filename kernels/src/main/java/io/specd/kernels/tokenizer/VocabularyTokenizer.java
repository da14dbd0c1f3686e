package io.specd.kernels.tokenizer;

import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.ModelFormatException;
import io.specd.kernels.tokenizer.SpecialTokenSplitter.Fragment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * What the tokenizers of a GGUF vocabulary share: special tokens are split out of the text first
 * (only where a {@link TextPiece} asks for it), BOS and EOS are added as the file says, the plain
 * text between special tokens is left to the subclass, and decoding joins the bytes each token
 * stands for. Immutable and thread-safe.
 */
abstract class VocabularyTokenizer implements TextTokenizer {

  /** The bytes a normal token stands for, from the vocabulary's spelling of them. */
  @FunctionalInterface
  interface NormalTokenBytes {
    byte[] of(String token);
  }

  private final List<String> tokens;
  private final SpecialTokens specials;
  private final SpecialTokenSplitter splitter;
  private final RenderedTokens rendered;

  /**
   * @param tokens token texts, indexed by id
   * @param types their GGUF types
   * @param specials BOS, EOS and the end-of-generation tokens
   * @param normalTokenBytes the bytes of a normal token, for decoding
   */
  VocabularyTokenizer(
      List<String> tokens, int[] types, SpecialTokens specials, NormalTokenBytes normalTokenBytes) {
    if (types.length != tokens.size()) {
      throw new IllegalArgumentException(
          "vocabulary has " + tokens.size() + " tokens but " + types.length + " types");
    }
    this.tokens = List.copyOf(tokens);
    int[] tokenTypes = types.clone();
    this.specials = specials;
    byte[][] bytes = new byte[tokens.size()][];
    for (int id = 0; id < bytes.length; id++) {
      bytes[id] = render(this.tokens.get(id), tokenTypes[id], normalTokenBytes);
    }
    this.splitter = new SpecialTokenSplitter(this.tokens, tokenTypes);
    this.rendered = new RenderedTokens(bytes, tokenTypes);
  }

  /**
   * The bytes a token stands for, as llama.cpp renders it: normal tokens as the vocabulary spells
   * them, byte tokens ({@code <0xNN>}) as their byte, control, unknown and user-defined tokens as
   * their text, unused ones as nothing.
   */
  private static byte[] render(String token, int type, NormalTokenBytes normalTokenBytes) {
    return switch (type) {
      case TokenTypes.NORMAL -> normalTokenBytes.of(token);
      case TokenTypes.BYTE -> {
        int value = TokenTypes.parseByteToken(token);
        yield value >= 0 ? new byte[] {(byte) value} : new byte[0];
      }
      case TokenTypes.CONTROL, TokenTypes.UNKNOWN, TokenTypes.USER_DEFINED ->
          token.getBytes(StandardCharsets.UTF_8);
      default -> new byte[0];
    };
  }

  /**
   * The GGUF token types ({@code tokenizer.ggml.token_type}), all normal when the file has none.
   *
   * @throws ModelFormatException if there is not one per token
   */
  static int[] tokenTypes(GgufFile gguf, int vocabularySize) {
    int[] types = gguf.optionalInts("tokenizer.ggml.token_type").orElse(null);
    if (types == null) {
      types = new int[vocabularySize];
      Arrays.fill(types, TokenTypes.NORMAL);
    }
    if (types.length != vocabularySize) {
      throw new ModelFormatException(
          gguf.path(),
          "tokenizer has " + vocabularySize + " tokens but " + types.length + " token types");
    }
    return types;
  }

  @Override
  public final int[] encode(List<TextPiece> text, boolean addSpecial) {
    IntList output = new IntList();
    if (addSpecial && specials.addBos()) {
      output.add(specials.bosId());
    }
    boolean afterSpecial = true;
    for (Fragment fragment : splitter.split(text)) {
      if (fragment.isText()) {
        encodeText(fragment.text(), afterSpecial, output);
        afterSpecial = false;
      } else {
        output.add(fragment.token());
        afterSpecial = true;
      }
    }
    if (addSpecial && specials.addEos()) {
      output.add(specials.eosId());
    }
    return output.toArray();
  }

  /**
   * Tokenizes a run of plain text (no special tokens in it).
   *
   * @param text the text
   * @param afterSpecial whether the run starts the text or follows a special token
   * @param output where the tokens go
   */
  abstract void encodeText(String text, boolean afterSpecial, IntList output);

  @Override
  public final String decode(int[] tokens, boolean renderSpecial) {
    return rendered.decode(tokens, renderSpecial);
  }

  @Override
  public final byte[] tokenBytes(int token) {
    return rendered.bytes(token);
  }

  @Override
  public final String piece(int token) {
    rendered.checkId(token);
    return tokens.get(token);
  }

  @Override
  public final int vocabularySize() {
    return tokens.size();
  }

  @Override
  public final int bosId() {
    return specials.bosId();
  }

  @Override
  public final int eosId() {
    return specials.eosId();
  }

  @Override
  public final boolean isEndOfGeneration(int token) {
    return specials.endOfGeneration().contains(token);
  }
}
