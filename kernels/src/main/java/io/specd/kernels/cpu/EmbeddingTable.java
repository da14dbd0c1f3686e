package io.specd.kernels.cpu;

/** Token embeddings {@code [V, D]}: a look-up of one row per token. */
interface EmbeddingTable {

  /** Copies token {@code token}'s embedding to {@code destination[offset…]}. */
  void row(int token, float[] destination, int offset);

  /** Float32 rows on the heap. */
  static EmbeddingTable of(float[] table, int dim) {
    return (token, destination, offset) ->
        System.arraycopy(table, token * dim, destination, offset, dim);
  }

  /** The rows of a weight matrix (an encoded embedding, dequantized per look-up). */
  static EmbeddingTable of(WeightMatrix matrix) {
    return matrix::row;
  }
}
