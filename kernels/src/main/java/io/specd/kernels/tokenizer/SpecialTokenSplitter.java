package io.specd.kernels.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Splits text into runs of plain text and the special tokens written in it, as llama.cpp does
 * before tokenizing: every control, user-defined and unknown token, longest text first, is cut out
 * of the text wherever it occurs. Control and unknown tokens are cut out only where the text asks
 * for it ({@link TextPiece#parseSpecial()}); user-defined tokens are always cut out, as in
 * llama.cpp and Hugging Face tokenizers (they are ordinary words the vocabulary added, like {@code
 * <tool_call>}, not control tokens). Immutable and thread-safe.
 */
final class SpecialTokenSplitter {

  /** A run of plain text ({@code text} set) or one special token ({@code text} null). */
  record Fragment(String text, int token) {
    static Fragment text(String text) {
      return new Fragment(text, -1);
    }

    static Fragment token(int token) {
      return new Fragment(null, token);
    }

    boolean isText() {
      return text != null;
    }
  }

  private final List<String> tokens;
  private final int[] types;

  /** Control, user-defined and unknown tokens with text, longest first. */
  private final int[] specialTokens;

  /**
   * @param tokens the token texts, indexed by id
   * @param types their GGUF types
   */
  SpecialTokenSplitter(List<String> tokens, int[] types) {
    this.tokens = tokens;
    this.types = types;
    List<Integer> specials = new ArrayList<>();
    for (int id = 0; id < tokens.size(); id++) {
      boolean special =
          types[id] == TokenTypes.CONTROL
              || types[id] == TokenTypes.USER_DEFINED
              || types[id] == TokenTypes.UNKNOWN;
      if (special && !tokens.get(id).isEmpty()) {
        specials.add(id);
      }
    }
    // by UTF-8 length, as llama.cpp orders them
    specials.sort(
        Comparator.comparingInt(
            (Integer id) -> -tokens.get(id).getBytes(StandardCharsets.UTF_8).length));
    this.specialTokens = specials.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * Splits the pieces of a text. The result is what splitting their concatenation would give if
   * only the parsed pieces could hold special tokens: plain text on both sides of a piece boundary
   * makes one run.
   */
  List<Fragment> split(List<TextPiece> pieces) {
    List<Fragment> fragments = new ArrayList<>();
    for (TextPiece piece : pieces) {
      for (Fragment fragment : split(piece.text(), piece.parseSpecial())) {
        int last = fragments.size() - 1;
        if (fragment.isText() && last >= 0 && fragments.get(last).isText()) {
          fragments.set(last, Fragment.text(fragments.get(last).text() + fragment.text()));
        } else {
          fragments.add(fragment);
        }
      }
    }
    return fragments;
  }

  private List<Fragment> split(String text, boolean parseSpecial) {
    List<Fragment> fragments = new ArrayList<>();
    if (!text.isEmpty()) {
      fragments.add(Fragment.text(text));
    }
    for (int special : specialTokens) {
      if (!parseSpecial && types[special] != TokenTypes.USER_DEFINED) {
        continue;
      }
      String needle = tokens.get(special);
      List<Fragment> next = new ArrayList<>(fragments.size());
      for (Fragment fragment : fragments) {
        if (!fragment.isText()) {
          next.add(fragment);
          continue;
        }
        String raw = fragment.text();
        int from = 0;
        int at;
        while ((at = raw.indexOf(needle, from)) >= 0) {
          if (at > from) {
            next.add(Fragment.text(raw.substring(from, at)));
          }
          next.add(Fragment.token(special));
          from = at + needle.length();
        }
        if (from == 0) {
          next.add(fragment);
        } else if (from < raw.length()) {
          next.add(Fragment.text(raw.substring(from)));
        }
      }
      fragments = next;
    }
    return fragments;
  }
}
