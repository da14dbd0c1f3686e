package io.specd.kernels.quant;

import static io.specd.kernels.quant.RowKernelTest.assertClose;
import static io.specd.kernels.quant.RowKernelTest.bits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.specd.kernels.format.GgmlType;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The split Q8_0 kernels against the scalar reference on random rows: dequantized rows bit-exact,
 * products to float rounding for 1 to 9 tokens over row ranges with pairs and a leftover row (and,
 * for one token, bit-identical to the file-layout kernel's single-row {@code dot}), and on rows
 * three panels wide, the last one narrower, against the reference.
 */
class SplitQ8_0RowsTest {
  private static final int ROWS = 7;
  private static final int COLUMNS = 5 * 32;
  private static final int ROW_BYTES = 5 * 34;

  private final Random random = new Random(42);
  private final byte[] encoded = new byte[ROWS * ROW_BYTES];
  private final float[][] weights = new float[ROWS][COLUMNS];
  private final SplitQ8_0Rows split;

  SplitQ8_0RowsTest() {
    for (int r = 0; r < ROWS; r++) {
      System.arraycopy(
          RandomRows.of(GgmlType.Q8_0, COLUMNS, random), 0, encoded, r * ROW_BYTES, ROW_BYTES);
      ReferenceDequantizer.dequantize(
          GgmlType.Q8_0, encoded, r * ROW_BYTES, weights[r], 0, COLUMNS);
    }
    // read in uneven batches through the source, as from a file
    split =
        SplitQ8_0Rows.split(
            ROWS,
            COLUMNS,
            (first, count, into) ->
                System.arraycopy(encoded, first * ROW_BYTES, into, 0, count * ROW_BYTES));
  }

  @Test
  void rowsShouldDequantizeBitIdenticallyToTheReference() {
    for (int r = 0; r < ROWS; r++) {
      float[] row = new float[COLUMNS + 3];
      split.dequantizeRow(r, row, 3);
      assertThat(bits(Arrays.copyOfRange(row, 3, row.length)))
          .as("row %d", r)
          .containsExactly(bits(weights[r]));
    }
  }

  @Test
  void productsShouldMatchTheReferenceAndTheSingleRowKernel() {
    RowKernel fileLayout = RowKernel.of(GgmlType.Q8_0);
    int xOffset = 5;
    float[] x = new float[xOffset + 9 * COLUMNS];
    for (int i = 0; i < x.length; i++) {
      x[i] = random.nextFloat() * 2 - 1;
    }
    for (int[] range : new int[][] {{0, ROWS}, {2, 6}, {4, 5}}) {
      int from = range[0];
      int to = range[1];
      for (int tokens = 1; tokens <= 9; tokens++) {
        int yOffset = 2;
        float[] y = new float[yOffset + tokens * ROWS];
        Arrays.fill(y, Float.NaN);
        split.multiply(x, xOffset, tokens, y, yOffset, from, to);
        for (int t = 0; t < tokens; t++) {
          for (int r = 0; r < ROWS; r++) {
            float actual = y[yOffset + t * ROWS + r];
            String what =
                "rows [" + from + ", " + to + "), row " + r + ", token " + t + " of " + tokens;
            if (r < from || r >= to) {
              assertThat(actual).as(what + " (outside the range)").isNaN();
              continue;
            }
            assertClose(actual, weights[r], x, xOffset + t * COLUMNS, what);
            if (tokens == 1) { // the same operations as the file-layout kernel's dot
              float dot = fileLayout.dot(encoded, r * ROW_BYTES, x, xOffset, COLUMNS);
              assertThat(Float.floatToRawIntBits(actual))
                  .as(what + " as the file-layout dot")
                  .isEqualTo(Float.floatToRawIntBits(dot));
            }
          }
        }
      }
    }
  }

  /**
   * Threads split the rows in ranges of any even start, so a row's sums must not depend on the
   * range it falls in: rows taken four at a time, two at a time or alone give the same bits.
   */
  @Test
  void productsShouldNotDependOnTheRangeTheirRowFallsIn() {
    float[] x = new float[9 * COLUMNS];
    for (int i = 0; i < x.length; i++) {
      x[i] = random.nextFloat() * 2 - 1;
    }
    for (int tokens = 1; tokens <= 9; tokens++) {
      float[] whole = new float[tokens * ROWS];
      split.multiply(x, 0, tokens, whole, 0, 0, ROWS);
      float[] pairs = new float[tokens * ROWS];
      for (int from = 0; from < ROWS; from += 2) {
        split.multiply(x, 0, tokens, pairs, 0, from, Math.min(ROWS, from + 2));
      }
      assertThat(bits(pairs)).as("%d tokens, pair by pair", tokens).containsExactly(bits(whole));
    }
  }

  /**
   * A verification's tokens go through the kernels in fours, then a three, a two or a one: a
   * token's sums must be the same bits whichever group of two or more it lands in (a lone token
   * scales its sums once per block, as the file-layout {@code dot} does).
   */
  @Test
  void productsShouldNotDependOnTheGroupTheirTokenLandsIn() {
    float[] x = new float[8 * COLUMNS];
    for (int i = 0; i < x.length; i++) {
      x[i] = random.nextFloat() * 2 - 1;
    }
    float[] eight = new float[8 * ROWS]; // two fours
    split.multiply(x, 0, 8, eight, 0, 0, ROWS);
    for (int tokens = 2; tokens < 8; tokens++) {
      float[] y = new float[tokens * ROWS];
      split.multiply(x, 0, tokens, y, 0, 0, ROWS);
      int grouped = tokens % 4 == 1 ? tokens - 1 : tokens; // the last of a five is alone
      assertThat(bits(Arrays.copyOf(y, grouped * ROWS)))
          .as("the first %d of %d tokens", grouped, tokens)
          .containsExactly(bits(Arrays.copyOf(eight, grouped * ROWS)));
    }
  }

  @Test
  void productsShouldSumEveryPanelOfWideRows() {
    int rows = 5;
    int columns = 2 * SplitQ8_0Rows.PANEL + 3 * 32;
    int rowBytes = columns / 32 * 34;
    byte[] wide = new byte[rows * rowBytes];
    float[][] reference = new float[rows][columns];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(
          RandomRows.of(GgmlType.Q8_0, columns, random), 0, wide, r * rowBytes, rowBytes);
      ReferenceDequantizer.dequantize(GgmlType.Q8_0, wide, r * rowBytes, reference[r], 0, columns);
    }
    SplitQ8_0Rows matrix =
        SplitQ8_0Rows.split(
            rows,
            columns,
            (first, count, into) ->
                System.arraycopy(wide, first * rowBytes, into, 0, count * rowBytes));
    float[] x = new float[7 * columns];
    for (int i = 0; i < x.length; i++) {
      x[i] = random.nextFloat() * 2 - 1;
    }
    for (int r = 0; r < rows; r++) {
      float[] row = new float[columns];
      matrix.dequantizeRow(r, row, 0);
      assertThat(bits(row)).as("row %d", r).containsExactly(bits(reference[r]));
    }
    for (int tokens = 1; tokens <= 7; tokens++) {
      float[] y = new float[tokens * rows];
      matrix.multiply(x, 0, tokens, y, 0, 0, rows);
      for (int t = 0; t < tokens; t++) {
        for (int r = 0; r < rows; r++) {
          assertClose(
              y[t * rows + r],
              reference[r],
              x,
              t * columns,
              "row " + r + ", token " + t + " of " + tokens);
        }
      }
    }
  }

  @Test
  void shouldRefuseARangeThatStartsInsideAPair() {
    float[] x = new float[COLUMNS];
    float[] y = new float[ROWS];
    assertThatThrownBy(() -> split.multiply(x, 0, 1, y, 0, 1, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not at 1");
  }

  @Test
  void shouldRefuseRowsThatAreNotWholeBlocks() {
    assertThatThrownBy(() -> SplitQ8_0Rows.split(2, 40, (first, count, into) -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2 x 40");
  }
}
