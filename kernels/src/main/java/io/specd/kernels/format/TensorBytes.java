package io.specd.kernels.format;

import io.specd.kernels.quant.ReferenceDequantizer;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor's bytes exactly as stored in its file (any supported {@link GgmlType}), memory-mapped
 * read-only, addressed by rows: a row is the last dimension ({@code ne[0]} in ggml's terms), the
 * unit that quantization blocks never cross.
 *
 * <p>The data is mapped in chunks of whole rows, each under 2 GiB, so tensors of any size can be
 * read; a row never spans two chunks. Instances are immutable and safe to share between threads:
 * every read is an absolute bulk copy. The mapping stays valid until the instance is garbage
 * collected.
 */
public final class TensorBytes {
  /** Largest mapping: {@link MappedByteBuffer} indexes with an int. */
  static final long MAX_CHUNK_BYTES = Integer.MAX_VALUE;

  /** Rows copied at once by {@link #dequantizeRows}, so its scratch stays near 1 MiB. */
  private static final int DEQUANTIZE_BATCH_BYTES = 1 << 20;

  private final String name;
  private final GgmlType type;
  private final long[] shape;
  private final long rows;
  private final int rowLength;
  private final int rowBytes;
  private final long rowsPerChunk;
  private final MappedByteBuffer[] chunks;
  private final Path file;
  private final long offset; // of the first row in the file

  private TensorBytes(
      String name,
      GgmlType type,
      long[] shape,
      long rows,
      int rowLength,
      long rowsPerChunk,
      MappedByteBuffer[] chunks,
      Path file,
      long offset) {
    this.name = name;
    this.type = type;
    this.shape = shape;
    this.rows = rows;
    this.rowLength = rowLength;
    this.rowBytes = (int) type.byteSize(rowLength);
    this.rowsPerChunk = rowsPerChunk;
    this.chunks = chunks;
    this.file = file;
    this.offset = offset;
  }

  /**
   * Maps a tensor's data.
   *
   * @param file the model file
   * @param offset absolute byte offset of the tensor's first row in the file
   * @param name the tensor's name, for messages
   * @param type its encoding; must be supported
   * @param shape row-major (PyTorch order); the last dimension is the row length
   * @throws ModelFormatException if a row is not whole blocks or too long, or the file cannot be
   *     mapped
   */
  static TensorBytes map(Path file, long offset, String name, GgmlType type, long[] shape) {
    return map(file, offset, name, type, shape, MAX_CHUNK_BYTES);
  }

  /**
   * As {@link #map(Path, long, String, GgmlType, long[])} with chunks of at most the given size.
   */
  static TensorBytes map(
      Path file, long offset, String name, GgmlType type, long[] shape, long maxChunkBytes) {
    long lastDimension = shape.length == 0 ? 1 : shape[shape.length - 1];
    long rows = 1;
    for (int i = 0; i < shape.length - 1; i++) {
      rows *= shape[i];
    }
    if (lastDimension % type.blockSize() != 0 || type.byteSize(lastDimension) > MAX_CHUNK_BYTES) {
      throw new ModelFormatException(
          file,
          "tensor '"
              + name
              + "' of type "
              + type
              + " has rows of "
              + lastDimension
              + " values: not whole blocks of "
              + type.blockSize()
              + " or longer than 2 GiB");
    }
    int rowLength = (int) lastDimension;
    long rowBytes = type.byteSize(rowLength);
    long rowsPerChunk = rowBytes == 0 ? 1 : Math.max(1, maxChunkBytes / rowBytes);
    int chunkCount = rows == 0 ? 0 : Math.toIntExact((rows + rowsPerChunk - 1) / rowsPerChunk);
    MappedByteBuffer[] chunks = new MappedByteBuffer[chunkCount];
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      for (int c = 0; c < chunkCount; c++) {
        long firstRow = c * rowsPerChunk;
        long chunkRows = Math.min(rowsPerChunk, rows - firstRow);
        chunks[c] =
            channel.map(
                FileChannel.MapMode.READ_ONLY, offset + firstRow * rowBytes, chunkRows * rowBytes);
      }
    } catch (IOException e) {
      throw new ModelFormatException(file, "cannot map tensor '" + name + "': " + e, e);
    }
    return new TensorBytes(
        name, type, shape.clone(), rows, rowLength, rowsPerChunk, chunks, file, offset);
  }

  public String name() {
    return name;
  }

  public GgmlType type() {
    return type;
  }

  /** The shape in row-major (PyTorch) order, e.g. {@code [out, in]} for a projection. */
  public long[] shape() {
    return shape.clone();
  }

  /** Number of rows: the product of all dimensions but the last. */
  public long rows() {
    return rows;
  }

  /** Values per row: the last dimension (ggml's {@code ne[0]}). */
  public int rowLength() {
    return rowLength;
  }

  /** Encoded bytes per row: {@code type().byteSize(rowLength())}. */
  public int rowBytes() {
    return rowBytes;
  }

  /**
   * Copies {@code count} consecutive encoded rows starting at {@code firstRow} into {@code dst}.
   *
   * @param dst receives {@code count * rowBytes()} bytes from {@code dst[dstOffset]}
   * @throws IndexOutOfBoundsException if the rows or the destination range are out of bounds
   */
  public void copyRows(long firstRow, int count, byte[] dst, int dstOffset) {
    Objects.checkFromIndexSize(firstRow, count, rows);
    Objects.checkFromIndexSize(dstOffset, (long) count * rowBytes, dst.length);
    long row = firstRow;
    int to = dstOffset;
    int remaining = count;
    while (remaining > 0) {
      int chunk = (int) (row / rowsPerChunk);
      long rowInChunk = row - chunk * rowsPerChunk;
      int rowsHere = (int) Math.min(remaining, rowsPerChunk - rowInChunk);
      int bytes = rowsHere * rowBytes;
      chunks[chunk].get((int) (rowInChunk * rowBytes), dst, to, bytes);
      row += rowsHere;
      to += bytes;
      remaining -= rowsHere;
    }
  }

  /**
   * As {@link #copyRows}, but read from the file rather than through the mapping, so that the
   * mapped pages do not become part of the process's resident memory: for a reader that keeps its
   * own copy of the rows (repacked), read once at load.
   *
   * @throws java.io.UncheckedIOException if the file cannot be read
   */
  public void readRows(long firstRow, int count, byte[] dst, int dstOffset) {
    Objects.checkFromIndexSize(firstRow, count, rows);
    ByteBuffer into = ByteBuffer.wrap(dst, dstOffset, count * rowBytes);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long at = offset + firstRow * rowBytes;
      while (into.hasRemaining()) {
        int read = channel.read(into, at);
        if (read < 0) {
          throw new EOFException("tensor '" + name + "' ends past the end of " + file);
        }
        at += read;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read tensor '" + name + "' from " + file, e);
    }
  }

  /**
   * Dequantizes rows {@code [firstRow, firstRow + count)} to float32, with ggml's reference values
   * ({@link ReferenceDequantizer}).
   *
   * @param dst receives {@code count * rowLength()} floats from {@code dst[dstOffset]}
   * @throws IndexOutOfBoundsException if the rows or the destination range are out of bounds
   */
  public void dequantizeRows(long firstRow, int count, float[] dst, int dstOffset) {
    Objects.checkFromIndexSize(firstRow, count, rows);
    Objects.checkFromIndexSize(dstOffset, (long) count * rowLength, dst.length);
    int batchRows = Math.max(1, Math.min(count, DEQUANTIZE_BATCH_BYTES / Math.max(1, rowBytes)));
    byte[] scratch = new byte[batchRows * rowBytes];
    for (int done = 0; done < count; done += batchRows) {
      int rowsNow = Math.min(batchRows, count - done);
      copyRows(firstRow + done, rowsNow, scratch, 0);
      ReferenceDequantizer.dequantize(
          type, scratch, 0, dst, dstOffset + done * rowLength, rowsNow * rowLength);
    }
  }

  /** Number of mappings the data is split into. */
  int chunkCount() {
    return chunks.length;
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape) + " " + type;
  }
}
