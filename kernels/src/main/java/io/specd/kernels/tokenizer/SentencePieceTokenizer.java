package io.specd.kernels.tokenizer;

import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.ModelFormatException;
import java.io.ByteArrayOutputStream;
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
public final class SentencePieceTokenizer implements TextTokenizer {
  private static final String SPACE_MARK = "\u2581";

  // GGUF token types
  static final int NORMAL = 1;
  static final int UNKNOWN = 2;
  static final int CONTROL = 3;
  static final int USER_DEFINED = 4;
  static final int BYTE = 6;

  private final List<String> pieces;
  private final float[] scores;
  private final int[] types;

  /** Token text as ISO-8859-1 strings of its UTF-8 bytes, so any byte sequence can be a key. */
  private final Map<String, Integer> idsByBytes;

  private final byte[][] pieceBytes;
  private final int[] byteTokens;
  private final int bosId;
  private final int eosId;
  private final int unknownId;
  private final boolean addSpacePrefix;
  private final boolean addBos;
  private final boolean addEos;

  /** Control, user-defined and unknown tokens, longest text first (llama.cpp's partition order). */
  private final List<Integer> specialTokens;

  /**
   * @param pieces token texts, indexed by id
   * @param scores merge scores (higher merges first)
   * @param types GGUF token types (1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte)
   */
  public SentencePieceTokenizer(
      List<String> pieces,
      float[] scores,
      int[] types,
      int bosId,
      int eosId,
      int unknownId,
      boolean addSpacePrefix,
      boolean addBos,
      boolean addEos) {
    if (scores.length != pieces.size() || types.length != pieces.size()) {
      throw new IllegalArgumentException(
          "vocabulary has "
              + pieces.size()
              + " tokens but "
              + scores.length
              + " scores and "
              + types.length
              + " types");
    }
    this.pieces = List.copyOf(pieces);
    this.scores = scores.clone();
    this.types = types.clone();
    this.bosId = bosId;
    this.eosId = eosId;
    this.unknownId = unknownId;
    this.addSpacePrefix = addSpacePrefix;
    this.addBos = addBos;
    this.addEos = addEos;
    this.idsByBytes = new HashMap<>(pieces.size() * 2);
    this.pieceBytes = new byte[pieces.size()][];
    this.byteTokens = new int[256];
    Arrays.fill(byteTokens, -1);
    List<Integer> specials = new ArrayList<>();
    for (int id = 0; id < pieces.size(); id++) {
      byte[] bytes = pieces.get(id).getBytes(StandardCharsets.UTF_8);
      pieceBytes[id] = bytes;
      idsByBytes.putIfAbsent(new String(bytes, StandardCharsets.ISO_8859_1), id);
      if (types[id] == BYTE) {
        int value = parseByteToken(pieces.get(id));
        if (value >= 0) {
          byteTokens[value] = id;
        }
      }
      if ((types[id] == CONTROL || types[id] == USER_DEFINED || types[id] == UNKNOWN)
          && !pieces.get(id).isEmpty()) {
        specials.add(id);
      }
    }
    specials.sort(Comparator.comparingInt((Integer id) -> -pieceBytes[id].length));
    this.specialTokens = List.copyOf(specials);
  }

  /** Reads the tokenizer embedded in a GGUF file ({@code tokenizer.ggml.*}). */
  public static SentencePieceTokenizer fromGguf(GgufFile gguf) {
    String model = gguf.optionalString("tokenizer.ggml.model").orElse("llama");
    if (!model.equals("llama")) {
      throw new ModelFormatException(
          gguf.path(),
          "tokenizer model '"
              + model
              + "' is not supported (specd reads 'llama', SentencePiece BPE)");
    }
    List<String> tokens = gguf.strings("tokenizer.ggml.tokens");
    float[] scores = gguf.optionalFloats("tokenizer.ggml.scores").orElse(new float[tokens.size()]);
    int[] types = gguf.optionalInts("tokenizer.ggml.token_type").orElse(null);
    if (types == null) {
      types = new int[tokens.size()];
      Arrays.fill(types, NORMAL);
    }
    if (scores.length != tokens.size() || types.length != tokens.size()) {
      throw new ModelFormatException(
          gguf.path(),
          "tokenizer has "
              + tokens.size()
              + " tokens but "
              + scores.length
              + " scores and "
              + types.length
              + " token types");
    }
    int bos = tokenId(gguf, "tokenizer.ggml.bos_token_id", 1, tokens.size());
    int eos = tokenId(gguf, "tokenizer.ggml.eos_token_id", 2, tokens.size());
    int unk = tokenId(gguf, "tokenizer.ggml.unknown_token_id", 0, tokens.size());
    return new SentencePieceTokenizer(
        tokens,
        scores,
        types,
        bos,
        eos,
        unk,
        gguf.optionalBoolean("tokenizer.ggml.add_space_prefix").orElse(true),
        gguf.optionalBoolean("tokenizer.ggml.add_bos_token").orElse(true),
        gguf.optionalBoolean("tokenizer.ggml.add_eos_token").orElse(false));
  }

  private static int tokenId(GgufFile gguf, String key, int fallback, int vocabularySize) {
    long id = gguf.optionalInteger(key).orElse((long) fallback);
    if (id < 0 || id >= vocabularySize) {
      throw new ModelFormatException(
          gguf.path(), key + " is " + id + ", outside the vocabulary of " + vocabularySize);
    }
    return (int) id;
  }

  @Override
  public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
    List<Object> fragments = partition(text, parseSpecial);
    IntList output = new IntList();
    if (addSpecial && addBos) {
      output.add(bosId);
    }
    boolean previousWasSpecial = true; // the first text fragment gets the space prefix
    for (Object fragment : fragments) {
      if (fragment instanceof Integer special) {
        output.add(special);
        previousWasSpecial = true;
      } else {
        String raw = (String) fragment;
        String prefixed = addSpacePrefix && previousWasSpecial ? " " + raw : raw;
        tokenizeFragment(prefixed.replace(" ", SPACE_MARK), output);
        previousWasSpecial = false;
      }
    }
    if (addSpecial && addEos) {
      output.add(eosId);
    }
    return output.toArray();
  }

  /** Splits text into raw-text fragments (String) and special tokens (Integer). */
  private List<Object> partition(String text, boolean parseSpecial) {
    List<Object> fragments = new ArrayList<>();
    if (!text.isEmpty()) {
      fragments.add(text);
    }
    for (int special : specialTokens) {
      if (!parseSpecial && types[special] != USER_DEFINED) {
        continue;
      }
      String needle = pieces.get(special);
      List<Object> next = new ArrayList<>();
      for (Object fragment : fragments) {
        if (!(fragment instanceof String raw)) {
          next.add(fragment);
          continue;
        }
        int from = 0;
        int at;
        while ((at = raw.indexOf(needle, from)) >= 0) {
          if (at > from) {
            next.add(raw.substring(from, at));
          }
          next.add(special);
          from = at + needle.length();
        }
        if (from < raw.length()) {
          next.add(raw.substring(from));
        }
      }
      fragments = next;
    }
    return fragments;
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

  @Override
  public String decode(int[] tokens) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int token : tokens) {
      checkId(token);
      switch (types[token]) {
        case CONTROL -> {} // BOS, EOS and friends have no text
        case BYTE -> bytes.write(parseByteToken(pieces.get(token)));
        case USER_DEFINED -> bytes.writeBytes(pieceBytes[token]);
        default ->
            bytes.writeBytes(
                pieces.get(token).replace(SPACE_MARK, " ").getBytes(StandardCharsets.UTF_8));
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Override
  public String piece(int token) {
    checkId(token);
    return pieces.get(token);
  }

  @Override
  public int vocabularySize() {
    return pieces.size();
  }

  @Override
  public int bosId() {
    return bosId;
  }

  @Override
  public int eosId() {
    return eosId;
  }

  private void checkId(int token) {
    if (token < 0 || token >= pieces.size()) {
      throw new IllegalArgumentException(
          "token id " + token + " is outside the vocabulary of " + pieces.size());
    }
  }

  /** The byte value of a {@code <0xNN>} token, or -1. */
  private static int parseByteToken(String piece) {
    if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
      try {
        return Integer.parseInt(piece.substring(3, 5), 16);
      } catch (NumberFormatException e) {
        return -1;
      }
    }
    return -1;
  }

  /** A growable int array. */
  private static final class IntList {
    private int[] values = new int[16];
    private int size;

    void add(int value) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = value;
    }

    int[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
