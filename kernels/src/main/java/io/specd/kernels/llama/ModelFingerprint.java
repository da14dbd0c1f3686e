package io.specd.kernels.llama;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A short identity of a model's weights, independent of the file format: SHA-256 over the shapes
 * and the first rows of the embedding and LM head, as loaded (dequantized). Head checkpoints record
 * it so that heads trained for one model are refused by another. Pure Java: computing it needs the
 * host tensors only.
 */
public final class ModelFingerprint {
  private static final int ROWS = 64;

  private ModelFingerprint() {}

  /** The fingerprint of the model {@code source} holds (reads its embedding and LM head). */
  public static String of(WeightSource source) {
    LlamaConfig c = source.config();
    float[] embedding = source.read("model.embed_tokens.weight", c.vocabularySize(), c.dim());
    float[] lmHead =
        source.has("lm_head.weight")
            ? source.read("lm_head.weight", c.vocabularySize(), c.dim())
            : embedding;
    return of(c, embedding, lmHead);
  }

  /**
   * The fingerprint of weights already read.
   *
   * @param embedding {@code [vocab, dim]} row-major
   * @param lmHead {@code [vocab, dim]} row-major (the embedding when the model ties them)
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
