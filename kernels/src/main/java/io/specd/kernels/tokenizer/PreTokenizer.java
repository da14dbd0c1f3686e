package io.specd.kernels.tokenizer;

import io.specd.kernels.format.ModelFormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before byte-level BPE merges them, as llama.cpp does for the pre-tokenizer
 * a GGUF file names in {@code tokenizer.ggml.pre}: a list of regular expressions applied in turn,
 * each splitting every piece the previous ones left into its matches and the text between them. The
 * expressions are those of the models' own {@code tokenizer.json}, in the form llama.cpp runs them
 * (case-insensitive contractions spelled out as {@code '[sS]}, and so on).
 *
 * <p>{@code \s} means Unicode White_Space ({@link Pattern#UNICODE_CHARACTER_CLASS}), as in
 * llama.cpp's tables; {@code \p{L}}, {@code \p{N}} and {@code \p{P}} are the Unicode general
 * categories of the JDK's Unicode version. Immutable and thread-safe.
 */
final class PreTokenizer {
  /** GPT-2's expression (llama.cpp's form, without the final {@code \s+}: see {@link #split}). */
  private static final String GPT2 =
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

  private static final String CONTRACTIONS =
      "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

  /** Llama 3's expression; Qwen 2's is the same with single digits. */
  private static final String LLAMA3 =
      CONTRACTIONS
          + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
          + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

  private static final String QWEN2 = LLAMA3.replace("\\p{N}{1,3}", "\\p{N}");

  /**
   * The contractions as the models' tokenizer.json writes them (llama.cpp spells the cases out).
   */
  private static final String HUGGING_FACE_CONTRACTIONS = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";

  /**
   * The pre-tokenizers a tokenizer.json names by its Split expression, as they are spelled there.
   */
  private static final Map<String, String> NAMES_BY_HUGGING_FACE_EXPRESSION =
      Map.of(
          LLAMA3.replace(CONTRACTIONS, HUGGING_FACE_CONTRACTIONS), "llama-bpe",
          QWEN2.replace(CONTRACTIONS, HUGGING_FACE_CONTRACTIONS), "qwen2");

  /**
   * CJK ideographs, most of U+0800–U+4E00 and Hangul (DeepSeek's ranges), less the whitespace
   * inside them: llama.cpp turns every non-ASCII whitespace into a vertical tab before matching, so
   * those characters never match this class there.
   */
  private static final String DEEPSEEK_CJK =
      "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}&&[^\\s]]+";

  /** DeepSeek LLM's cased letters (Unicode Lu, Ll and Lt, spelled out as ranges). */
  private static final String DEEPSEEK_LETTERS =
      "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
          + "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"
          + "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
          + "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}"
          + "\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}"
          + "\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}"
          + "\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}"
          + "\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}"
          + "\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}"
          + "\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
          + "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}"
          + "\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}"
          + "\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}"
          + "\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}"
          + "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}"
          + "\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
          + "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"
          + "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+";

  /**
   * DeepSeek LLM's punctuation: ASCII, full-width and curly quotes, and U+3001–U+3002 (the
   * ideographic space U+3000 of its range is whitespace, which never matches in llama.cpp).
   */
  private static final String DEEPSEEK_PUNCTUATION =
      "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3001}-\\x{3002}]+";

  private static final Map<String, PreTokenizer> BY_NAME = new LinkedHashMap<>();

  static {
    PreTokenizer llama3 = new PreTokenizer(List.of(LLAMA3), true, true);
    PreTokenizer llama3Regex = new PreTokenizer(List.of(LLAMA3), false, false);
    PreTokenizer qwen2 = new PreTokenizer(List.of(QWEN2), false, false);
    PreTokenizer gpt2 = new PreTokenizer(List.of(GPT2), false, false);
    PreTokenizer starcoder = new PreTokenizer(List.of("\\p{N}", GPT2), false, false);
    register(llama3, "llama-bpe", "llama3", "llama-v3", "falcon3");
    register(llama3Regex, "dbrx", "smaug-bpe");
    register(qwen2, "qwen2", "deepseek-r1-qwen", "stablelm2");
    register(gpt2, "gpt-2", "phi-2", "mpt", "olmo");
    register(starcoder, "starcoder", "refact", "command-r", "smollm", "codeshell");
    register(
        new PreTokenizer(
            List.of(
                "[\\r\\n]",
                DEEPSEEK_LETTERS,
                DEEPSEEK_PUNCTUATION,
                "\\s+\\z",
                DEEPSEEK_CJK,
                "\\p{N}+"),
            false,
            false),
        "deepseek-llm");
    register(
        new PreTokenizer(
            List.of("[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", DEEPSEEK_CJK, "\\p{N}"),
            false,
            false),
        "deepseek-coder");
    register(
        new PreTokenizer(List.of("[\\p{P}$+<=>^~|`]+", GPT2, "[0-9][0-9][0-9]"), false, false),
        "falcon");
    register(
        new PreTokenizer(
            List.of("[\\p{P}$+<=>^~|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"), false, false),
        "default");
  }

  private final List<Pattern> patterns;
  private final boolean ignoreMerges;
  private final boolean addBos;

  private PreTokenizer(List<String> expressions, boolean ignoreMerges, boolean addBos) {
    List<Pattern> compiled = new ArrayList<>();
    for (String expression : expressions) {
      compiled.add(Pattern.compile(expression, Pattern.UNICODE_CHARACTER_CLASS));
    }
    this.patterns = List.copyOf(compiled);
    this.ignoreMerges = ignoreMerges;
    this.addBos = addBos;
  }

  private static void register(PreTokenizer preTokenizer, String... names) {
    for (String name : names) {
      BY_NAME.put(name, preTokenizer);
    }
  }

  /**
   * The pre-tokenizer of a {@code tokenizer.ggml.pre} name.
   *
   * @param name the name
   * @param file the file that names it (for the error message)
   * @throws ModelFormatException if specd does not know the name
   */
  static PreTokenizer named(String name, Path file) {
    PreTokenizer preTokenizer = BY_NAME.get(name);
    if (preTokenizer == null) {
      throw new ModelFormatException(
          file,
          "pre-tokenizer '"
              + name
              + "' (tokenizer.ggml.pre) is not supported; specd reads "
              + String.join(", ", BY_NAME.keySet()));
    }
    return preTokenizer;
  }

  /**
   * The pre-tokenizer of a Hugging Face {@code tokenizer.json} with a byte-level pre-tokenizer.
   *
   * @param splitExpression the expression of its {@code Split} step, or null when it has none
   *     (GPT-2's own expression, inside {@code ByteLevel})
   * @param file the tokenizer.json (for the error message)
   * @throws ModelFormatException if specd does not know the expression
   */
  static PreTokenizer forHuggingFace(String splitExpression, Path file) {
    String name =
        splitExpression == null ? "gpt-2" : NAMES_BY_HUGGING_FACE_EXPRESSION.get(splitExpression);
    if (name == null) {
      throw new ModelFormatException(
          file,
          "the pre-tokenizer expression "
              + splitExpression
              + " is not one specd knows (it reads Llama 3's, Qwen 2's and GPT-2's)");
    }
    return named(name, file);
  }

  /**
   * Whether a word that is itself a token becomes that token without merging (Llama 3's
   * tokenizer.json sets {@code ignore_merges}).
   */
  boolean ignoreMerges() {
    return ignoreMerges;
  }

  /** Whether a prompt gets BOS when the file does not say ({@code add_bos_token}). */
  boolean addBos() {
    return addBos;
  }

  /**
   * Splits text into words. Text between two matches becomes a word of its own, as in llama.cpp,
   * which is why GPT-2's expression needs no final {@code \s+}: a lone whitespace before a word is
   * left between matches.
   *
   * @return the words, in order; their concatenation is the text
   */
  List<String> split(String text) {
    List<int[]> ranges = new ArrayList<>();
    if (!text.isEmpty()) {
      ranges.add(new int[] {0, text.length()});
    }
    for (Pattern pattern : patterns) {
      Matcher matcher = pattern.matcher(text);
      List<int[]> next = new ArrayList<>(ranges.size() * 2);
      for (int[] range : ranges) {
        // the region hides the rest of the text from lookahead and \z, as llama.cpp's ranges do
        matcher.region(range[0], range[1]);
        int end = range[0];
        while (matcher.find()) {
          if (matcher.start() > end) {
            next.add(new int[] {end, matcher.start()});
          }
          if (matcher.end() > matcher.start()) {
            next.add(new int[] {matcher.start(), matcher.end()});
          }
          end = matcher.end();
        }
        if (end < range[1]) {
          next.add(new int[] {end, range[1]});
        }
      }
      ranges = next;
    }
    List<String> words = new ArrayList<>(ranges.size());
    for (int[] range : ranges) {
      words.add(text.substring(range[0], range[1]));
    }
    return words;
  }
}
