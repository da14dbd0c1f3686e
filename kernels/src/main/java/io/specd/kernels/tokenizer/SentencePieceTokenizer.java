package io.specd.kernels.tokenizer;

import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.ModelFormatException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The SentencePiece-style BPE tokenizer of GGUF models ({@code tokenizer.ggml.model = llama}),
 * reproducing llama.cpp's tokenization exactly: special tokens are split out first, each text
 * fragment gets a space prefix where the model asks for it, spaces become U+2581, and adjacent
 * symbols are merged greedily by vocabulary score (ties to the leftmost pair). Symbols that are not
 * tokens fall back to {@code <0xNN>} byte tokens.
 *
 * <p>Immutable and thread-safe.
 */
public final class SentencePieceTokenizer extends VocabularyTokenizer {
  private static final String SPACE_MARK = "\u2581";

  private final float[] scores;
  private final int unknownId;
  private final boolean addSpacePrefix;

  /** Token text as ISO-8859-1 strings of its UTF-8 bytes, so any byte sequence can be a key. */
  private final Map<String, Integer> idsByBytes;

  private final int[] byteTokens;

  /**
   * @param pieces token texts, indexed by id
   * @param scores merge scores (higher merges first)
   * @param types GGUF token types (1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte)
   * @param specials BOS, EOS and the end-of-generation tokens
   * @param unknownId the token for bytes that have no byte token
   * @param addSpacePrefix whether each text run gets a leading space
   */
  SentencePieceTokenizer(
      List<String> pieces,
      float[] scores,
      int[] types,
      SpecialTokens specials,
      int unknownId,
      boolean addSpacePrefix) {
    super(
        pieces,
        types,
        specials,
        piece -> piece.replace(SPACE_MARK, " ").getBytes(StandardCharsets.UTF_8));
    if (scores.length != pieces.size()) {
      throw new IllegalArgumentException(
          "vocabulary has " + pieces.size() + " tokens but " + scores.length + " scores");
    }
    this.scores = scores.clone();
    this.unknownId = unknownId;
    this.addSpacePrefix = addSpacePrefix;
    this.idsByBytes = new HashMap<>(pieces.size() * 2);
    this.byteTokens = new int[256];
    Arrays.fill(byteTokens, -1);
    for (int id = 0; id < pieces.size(); id++) {
      String piece = pieces.get(id);
      byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
      idsByBytes.putIfAbsent(new String(bytes, StandardCharsets.ISO_8859_1), id);
      int byteValue = TokenTypes.parseByteToken(piece);
      if (types[id] == TokenTypes.BYTE && byteValue >= 0) {
        byteTokens[byteValue] = id;
      }
    }
  }

  /** Reads the tokenizer embedded in a GGUF file ({@code tokenizer.ggml.*}). */
  static SentencePieceTokenizer fromGguf(GgufFile gguf) {
    List<String> tokens = gguf.strings("tokenizer.ggml.tokens");
    float[] scores = gguf.optionalFloats("tokenizer.ggml.scores").orElse(new float[tokens.size()]);
    int[] types = tokenTypes(gguf, tokens.size());
    if (scores.length != tokens.size()) {
      throw new ModelFormatException(
          gguf.path(),
          "tokenizer has " + tokens.size() + " tokens but " + scores.length + " scores");
    }
    return new SentencePieceTokenizer(
        tokens,
        scores,
        types,
        SpecialTokens.fromGguf(gguf, tokens, 1, 2, true),
        SpecialTokens.tokenId(gguf, "tokenizer.ggml.unknown_token_id", 0, tokens.size()),
        gguf.optionalBoolean("tokenizer.ggml.add_space_prefix").orElse(true));
  }

  /** The text gets a space prefix where the model asks for it: at the start, after a special. */
  @Override
  void encodeText(String text, boolean afterSpecial, IntList output) {
    String prefixed = addSpacePrefix && afterSpecial ? " " + text : text;
    tokenizeFragment(prefixed.replace(" ", SPACE_MARK), output);
  }

  /** One symbol of the merge: a byte range of the text, linked to its neighbours. */
  private static final class Symbol {
    final int start;
    int length;
    int previous;
    int next;

    Symbol(int start, int length, int previous, int next) {
      this.start = start;
      this.length = length;
      this.previous = previous;
      this.next = next;
    }
  }

  private record Bigram(int left, int right, float score, int size) {}

  /** Greedy BPE by score over the UTF-8 characters of one escaped text fragment. */
  private void tokenizeFragment(String escaped, IntList output) {
    byte[] bytes = escaped.getBytes(StandardCharsets.UTF_8);
    List<Symbol> symbols = new ArrayList<>();
    for (int offset = 0; offset < bytes.length; ) {
      int length = Math.min(bytes.length - offset, utf8Length(bytes[offset]));
      int index = symbols.size();
      symbols.add(
          new Symbol(offset, length, index - 1, offset + length < bytes.length ? index + 1 : -1));
      offset += length;
    }
    // highest score first; on equal scores the leftmost pair first
    PriorityQueue<Bigram> queue =
        new PriorityQueue<>(
            Comparator.comparingDouble((Bigram b) -> -b.score()).thenComparingInt(Bigram::left));
    for (int i = 1; i < symbols.size(); i++) {
      addBigram(bytes, symbols, i - 1, i, queue);
    }
    while (!queue.isEmpty()) {
      Bigram bigram = queue.poll();
      Symbol left = symbols.get(bigram.left());
      Symbol right = symbols.get(bigram.right());
      // skip pairs made stale by an earlier merge
      if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.size()) {
        continue;
      }
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) {
        symbols.get(right.next).previous = bigram.left();
      }
      addBigram(bytes, symbols, left.previous, bigram.left(), queue);
      addBigram(bytes, symbols, bigram.left(), left.next, queue);
    }
    for (int i = symbols.isEmpty() ? -1 : 0; i != -1; i = symbols.get(i).next) {
      Symbol symbol = symbols.get(i);
      Integer id = lookup(bytes, symbol.start, symbol.length);
      if (id != null) {
        output.add(id);
      } else {
        for (int b = 0; b < symbol.length; b++) {
          int byteToken = byteTokens[bytes[symbol.start + b] & 0xff];
          output.add(byteToken >= 0 ? byteToken : unknownId);
        }
      }
    }
  }

  private void addBigram(
      byte[] bytes, List<Symbol> symbols, int left, int right, PriorityQueue<Bigram> queue) {
    if (left == -1 || right == -1) {
      return;
    }
    Symbol l = symbols.get(left);
    int size = l.length + symbols.get(right).length;
    Integer id = lookup(bytes, l.start, size);
    if (id != null) {
      queue.add(new Bigram(left, right, scores[id], size));
    }
  }

  private Integer lookup(byte[] bytes, int start, int length) {
    return idsByBytes.get(new String(bytes, start, length, StandardCharsets.ISO_8859_1));
  }

  /** Byte length of a UTF-8 sequence from its first byte, as llama.cpp computes it. */
  private static int utf8Length(byte first) {
    int high = (first & 0xff) >>> 4;
    if (high < 12) {
      return 1;
    }
    return high < 14 ? 2 : high == 14 ? 3 : 4;
  }
}
