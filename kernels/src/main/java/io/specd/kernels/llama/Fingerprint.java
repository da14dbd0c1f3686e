package io.specd.kernels.llama;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A short identity of a model's weights, independent of the file format and the backend: SHA-256
 * over the shapes and the first rows of the embedding and LM head. Head checkpoints record it so
 * that heads trained for one model are refused by another.
 */
public final class Fingerprint {
  private static final int ROWS = 64;

  private Fingerprint() {}

  /** The fingerprint of a source's weights (reads only their first rows). */
  public static String of(WeightSource source) {
    LlamaConfig c = source.config();
    int rows = Math.min(ROWS, c.vocabularySize());
    float[] embedding = source.readRows(source.embeddingName(), rows, c.vocabularySize(), c.dim());
    float[] lmHead =
        source.lmHeadName().equals(source.embeddingName())
            ? embedding
            : source.readRows(source.lmHeadName(), rows, c.vocabularySize(), c.dim());
    return of(c, embedding, lmHead);
  }

  /**
   * The fingerprint from the first rows of the embedding and LM head.
   *
   * @param embedding at least the first {@code min(64, vocab)} rows, {@code [rows, dim]}
   * @param lmHead the same rows of the LM head ({@code [vocab, dim]} layout)
   */
  static String of(LlamaConfig c, float[] embedding, float[] lmHead) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      ByteBuffer header = ByteBuffer.allocate(16);
      header.putInt(c.dim()).putInt(c.layerCount()).putInt(c.vocabularySize()).putInt(c.ffnDim());
      sha.update(header.array());
      for (float[] table : new float[][] {embedding, lmHead}) {
        int count = Math.min(table.length, ROWS * c.dim());
        ByteBuffer bytes = ByteBuffer.allocate(4 * count);
        bytes.asFloatBuffer().put(table, 0, count);
        sha.update(bytes.array());
      }
      return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }
}
