package io.specd.kernels.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's reversible map between the 256 byte values and 256 printable characters, in which
 * byte-level BPE vocabularies write their tokens: the printable Latin-1 bytes ({@code !}…{@code ~},
 * {@code ¡}…{@code ¬}, {@code ®}…{@code ÿ}) stand for themselves and the others, in byte order, for
 * U+0100 onwards (so a space is {@code Ġ} and a newline {@code Ċ}).
 */
final class ByteLevelAlphabet {
  private static final char[] CHAR_OF_BYTE = new char[256];
  private static final int[] BYTE_OF_CHAR = new int[256 + 68];

  static {
    Arrays.fill(BYTE_OF_CHAR, -1);
    char next = 256;
    for (int value = 0; value < 256; value++) {
      boolean printable =
          (value >= '!' && value <= '~')
              || (value >= 0xA1 && value <= 0xAC)
              || (value >= 0xAE && value <= 0xFF);
      char symbol = printable ? (char) value : next++;
      CHAR_OF_BYTE[value] = symbol;
      BYTE_OF_CHAR[symbol] = value;
    }
  }

  private ByteLevelAlphabet() {}

  /** The character that stands for a byte. */
  static char charOf(byte value) {
    return CHAR_OF_BYTE[value & 0xff];
  }

  /** The byte a character stands for, or -1 if it is not in the alphabet. */
  static int byteOf(char symbol) {
    return symbol < BYTE_OF_CHAR.length ? BYTE_OF_CHAR[symbol] : -1;
  }
}
