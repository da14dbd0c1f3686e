package io.specd.kernels.tokenizer;

import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.ModelFormatException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The byte-level BPE tokenizer of GGUF models ({@code tokenizer.ggml.model = gpt2}: Llama 3, Qwen
 * 2, GPT-2, DeepSeek, Falcon, StarCoder…), reproducing llama.cpp's tokenization: special tokens are
 * split out first, the {@link PreTokenizer} named by {@code tokenizer.ggml.pre} splits the text
 * into words, and each word's UTF-8 bytes are merged pairwise, lowest merge rank first (ties to the
 * leftmost pair), by the ranked merges of {@code tokenizer.ggml.merges}. A symbol left that is not
 * a token becomes its single-byte tokens.
 *
 * <p>Merging runs on small integers, not strings: every token and every string a merge names or
 * makes gets a symbol number (a token's is its id), and a {@link MergeTable} maps a pair of symbols
 * to its rank and result. Each word is merged with a heap of candidate pairs, so a word of n bytes
 * costs O(n log n); the tokens of recent words are cached.
 *
 * <p>Immutable and thread-safe.
 */
public final class ByteLevelBpeTokenizer extends VocabularyTokenizer {
  /** llama.cpp's BOS and EOS for GPT-2 vocabularies whose file names none. */
  private static final int DEFAULT_SPECIAL_TOKEN = 11;

  /** Words longer than this (in characters) are not cached. */
  private static final int CACHED_WORD_LENGTH = 64;

  private static final int CACHE_SIZE = 1 << 16;

  private final PreTokenizer preTokenizer;

  /** Token ids by their text, for words that are whole tokens. */
  private final Map<String, Integer> idsByText;

  private final MergeTable merges;

  /** The symbol of each byte value (its one-character string), or -1. */
  private final int[] byteSymbols;

  private final Map<String, int[]> cache = new ConcurrentHashMap<>();

  /**
   * @param tokens token texts in the byte-level alphabet, indexed by id
   * @param types GGUF token types
   * @param merges merges in rank order, each two symbols separated by a space ({@code "Ġ t"})
   * @param specials BOS, EOS and the end-of-generation tokens
   * @param preTokenizer how text is split into words
   */
  ByteLevelBpeTokenizer(
      List<String> tokens,
      int[] types,
      List<String> merges,
      SpecialTokens specials,
      PreTokenizer preTokenizer) {
    super(tokens, types, specials, ByteLevelBpeTokenizer::alphabetBytes);
    this.preTokenizer = preTokenizer;
    this.idsByText = new HashMap<>(tokens.size() * 2);
    for (int id = 0; id < tokens.size(); id++) {
      idsByText.putIfAbsent(tokens.get(id), id);
    }
    Map<String, Integer> symbols = new HashMap<>(idsByText);
    this.merges = new MergeTable(merges.size());
    for (int rank = 0; rank < merges.size(); rank++) {
      String merge = merges.get(rank);
      int space = merge.indexOf(' ', 1); // a merge's first symbol may itself be a space
      if (space < 0) {
        continue;
      }
      String left = merge.substring(0, space);
      String right = merge.substring(space + 1);
      this.merges.put(
          symbol(symbols, left), symbol(symbols, right), rank, symbol(symbols, left + right));
    }
    this.byteSymbols = new int[256];
    for (int value = 0; value < 256; value++) {
      String character = String.valueOf(ByteLevelAlphabet.charOf((byte) value));
      byteSymbols[value] = symbols.getOrDefault(character, -1);
    }
  }

  private static int symbol(Map<String, Integer> symbols, String text) {
    return symbols.computeIfAbsent(text, unused -> symbols.size());
  }

  /** The bytes of a normal token: its characters mapped back through the byte-level alphabet. */
  private static byte[] alphabetBytes(String token) {
    byte[] bytes = new byte[token.length()];
    int length = 0;
    for (int i = 0; i < token.length(); i++) {
      int value = ByteLevelAlphabet.byteOf(token.charAt(i));
      if (value < 0) {
        // not in the alphabet (a malformed vocabulary): keep the character itself
        byte[] raw = token.substring(i, i + 1).getBytes(StandardCharsets.UTF_8);
        bytes = Arrays.copyOf(bytes, bytes.length + raw.length);
        System.arraycopy(raw, 0, bytes, length, raw.length);
        length += raw.length;
      } else {
        bytes[length++] = (byte) value;
      }
    }
    return Arrays.copyOf(bytes, length);
  }

  /**
   * Reads the tokenizer of a GGUF file with {@code tokenizer.ggml.model = gpt2}.
   *
   * @throws ModelFormatException if the merges are missing or the pre-tokenizer is not one specd
   *     knows
   */
  static ByteLevelBpeTokenizer fromGguf(GgufFile gguf) {
    List<String> tokens = gguf.strings("tokenizer.ggml.tokens");
    if (!gguf.has("tokenizer.ggml.merges")) {
      throw new ModelFormatException(
          gguf.path(), "a gpt2 (byte-level BPE) tokenizer needs tokenizer.ggml.merges");
    }
    List<String> merges = gguf.strings("tokenizer.ggml.merges");
    int[] types = tokenTypes(gguf, tokens.size());
    // llama.cpp uses 'default' for files written before tokenizer.ggml.pre existed
    String preName = gguf.optionalString("tokenizer.ggml.pre").orElse("default");
    PreTokenizer preTokenizer = PreTokenizer.named(preName, gguf.path());
    SpecialTokens specials =
        SpecialTokens.fromGguf(
            gguf, tokens, DEFAULT_SPECIAL_TOKEN, DEFAULT_SPECIAL_TOKEN, preTokenizer.addBos());
    return new ByteLevelBpeTokenizer(tokens, types, merges, specials, preTokenizer);
  }

  @Override
  void encodeText(String text, boolean afterSpecial, IntList output) {
    for (String word : preTokenizer.split(text)) {
      output.addAll(encodeWord(word));
    }
  }

  /** The tokens of one pre-tokenized word (cached for short words). */
  private int[] encodeWord(String word) {
    if (word.length() > CACHED_WORD_LENGTH) {
      return merge(word.getBytes(StandardCharsets.UTF_8));
    }
    int[] cached = cache.get(word);
    if (cached == null) {
      cached = merge(word.getBytes(StandardCharsets.UTF_8));
      if (cache.size() >= CACHE_SIZE) {
        cache.clear();
      }
      cache.put(word, cached);
    }
    return cached;
  }

  /**
   * Merges the bytes of one word into tokens. Symbols start as single bytes; the candidate pairs
   * sit in a heap keyed by (rank, left position), so the lowest rank merges first and, among equal
   * ranks, the leftmost. A popped pair whose symbols have changed since it was pushed is stale and
   * skipped.
   */
  private int[] merge(byte[] bytes) {
    if (preTokenizer.ignoreMerges()) {
      Integer whole = idsByText.get(inAlphabet(bytes));
      if (whole != null) {
        return new int[] {whole};
      }
    }
    int count = bytes.length;
    int[] symbol = new int[count];
    int[] length = new int[count];
    int[] previous = new int[count];
    int[] next = new int[count];
    for (int i = 0; i < count; i++) {
      symbol[i] = byteSymbols[bytes[i] & 0xff];
      length[i] = 1;
      previous[i] = i - 1;
      next[i] = i + 1 < count ? i + 1 : -1;
    }
    LongHeap candidates = new LongHeap();
    for (int i = 1; i < count; i++) {
      pushPair(symbol, i - 1, i, candidates);
    }
    while (!candidates.isEmpty()) {
      long candidate = candidates.poll();
      int left = (int) candidate;
      int rank = (int) (candidate >>> 32);
      int right = length[left] == 0 ? -1 : next[left];
      if (right < 0) {
        continue;
      }
      long merged = lookup(symbol[left], symbol[right]);
      if (merged < 0 || (int) (merged >>> 32) != rank) {
        continue; // stale: one of the two symbols has merged with something else
      }
      symbol[left] = (int) merged;
      length[left] += length[right];
      length[right] = 0;
      next[left] = next[right];
      if (next[right] >= 0) {
        previous[next[right]] = left;
      }
      pushPair(symbol, previous[left], left, candidates);
      pushPair(symbol, left, next[left], candidates);
    }
    IntList output = new IntList();
    for (int i = count == 0 ? -1 : 0; i >= 0; i = next[i]) {
      if (symbol[i] >= 0 && symbol[i] < vocabularySize()) {
        output.add(symbol[i]);
      } else {
        // not a token: its bytes, one token each (llama.cpp drops a byte without a token)
        for (int b = i; b < i + length[i]; b++) {
          int byteSymbol = byteSymbols[bytes[b] & 0xff];
          if (byteSymbol >= 0 && byteSymbol < vocabularySize()) {
            output.add(byteSymbol);
          }
        }
      }
    }
    return output.toArray();
  }

  private void pushPair(int[] symbol, int left, int right, LongHeap candidates) {
    if (left < 0 || right < 0) {
      return;
    }
    long merged = lookup(symbol[left], symbol[right]);
    if (merged >= 0) {
      candidates.add((merged & 0xffffffff00000000L) | left);
    }
  }

  private long lookup(int left, int right) {
    return left < 0 || right < 0 ? -1 : merges.get(left, right);
  }

  /** The bytes written in the byte-level alphabet, as the vocabulary writes tokens. */
  private static String inAlphabet(byte[] bytes) {
    char[] characters = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      characters[i] = ByteLevelAlphabet.charOf(bytes[i]);
    }
    return new String(characters);
  }
}
