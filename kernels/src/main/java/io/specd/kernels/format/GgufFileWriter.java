package io.specd.kernels.format;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF version 3 file as a stream: the header (metadata and the tensor table) first, then
 * each tensor's data in the declared order, so that only one tensor is in memory at a time. Every
 * tensor starts at a multiple of the alignment ({@code general.alignment}, 32 when absent), as GGUF
 * requires. The file is written to a temporary file beside {@code path} and moved into place by
 * {@link #finish}; closing an unfinished writer deletes it, so a failure never leaves a truncated
 * model behind.
 *
 * <p>Not thread-safe: one writer is used by one thread, tensor after tensor.
 */
public final class GgufFileWriter implements Closeable {
  private static final int MAGIC = 0x46554747; // "GGUF" as a little-endian uint32
  private static final int VERSION = 3;
  private static final long DEFAULT_ALIGNMENT = 32;

  /**
   * One tensor to write.
   *
   * @param name tensor name, e.g. {@code blk.0.attn_q.weight}
   * @param type its encoding
   * @param dimensions GGML dimensions, fastest-varying first ({@code [rowLength, rows]})
   */
  public record TensorSpec(String name, GgmlType type, long[] dimensions) {
    public TensorSpec {
      dimensions = dimensions.clone();
      if (dimensions.length < 1 || Arrays.stream(dimensions).anyMatch(d -> d <= 0)) {
        throw new IllegalArgumentException(
            "tensor '" + name + "' needs positive dimensions, got " + Arrays.toString(dimensions));
      }
      if (dimensions[0] % type.blockSize() != 0) {
        throw new IllegalArgumentException(
            "tensor '"
                + name
                + "' has rows of "
                + dimensions[0]
                + " values, not a multiple of the "
                + type
                + " block size "
                + type.blockSize());
      }
    }

    @Override
    public long[] dimensions() {
      return dimensions.clone();
    }

    /** Number of values. */
    public long elementCount() {
      return Arrays.stream(dimensions).reduce(1, Math::multiplyExact);
    }

    /** Bytes of the encoded data (without alignment padding). */
    public long byteSize() {
      return type.byteSize(elementCount());
    }
  }

  private final Path path;
  private final Path temporary;
  private final FileChannel channel;
  private final List<TensorSpec> tensors;
  private final long alignment;
  private int next;
  private boolean finished;

  private GgufFileWriter(
      Path path, Path temporary, FileChannel channel, List<TensorSpec> tensors, long alignment) {
    this.path = path;
    this.temporary = temporary;
    this.channel = channel;
    this.tensors = tensors;
    this.alignment = alignment;
  }

  /**
   * Starts a file: writes the header of {@code metadata} and {@code tensors} to a temporary file
   * beside {@code path}. The tensors' data then follows with {@link #write} or {@link
   * #writeEncoded}, in this order.
   *
   * @param metadata key/value pairs in the order to write them, with their types
   * @throws IllegalArgumentException if a value cannot be written (nested arrays, an integer out of
   *     its type's range) or {@code general.alignment} is not a power of two
   */
  public static GgufFileWriter create(
      Path path, Map<String, GgufValue> metadata, List<TensorSpec> tensors) throws IOException {
    long alignment = alignment(metadata);
    byte[] header = header(metadata, tensors, alignment);
    Path parent = path.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    // a new file with the usual permissions (a temporary file's would stay private to its owner)
    Path temporary =
        parent.resolve(path.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".partial");
    FileChannel channel =
        FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    GgufFileWriter writer =
        new GgufFileWriter(path, temporary, channel, List.copyOf(tensors), alignment);
    try {
      writer.writeFully(ByteBuffer.wrap(header));
      writer.pad();
    } catch (IOException | RuntimeException e) {
      writer.close();
      throw e;
    }
    return writer;
  }

  /** The tensor whose data comes next, or null when all are written. */
  private TensorSpec nextTensor() {
    return next < tensors.size() ? tensors.get(next) : null;
  }

  /**
   * Encodes and writes the next tensor's values.
   *
   * @param name the next tensor's name (checked, to catch a wrong order)
   * @param values its values, row-major (rows of {@code dimensions[0]} values)
   */
  public void write(String name, float[] values) throws IOException {
    TensorSpec spec = expect(name, values.length);
    writeData(TensorEncoder.encode(spec.type(), values));
  }

  /**
   * Writes the next tensor's data as given (already in its type's encoding).
   *
   * @param name the next tensor's name (checked)
   * @param data exactly {@link TensorSpec#byteSize} bytes
   */
  public void writeEncoded(String name, ByteBuffer data) throws IOException {
    TensorSpec spec = expect(name, -1);
    if (data.remaining() != spec.byteSize()) {
      throw new IllegalArgumentException(
          "tensor '" + name + "' needs " + spec.byteSize() + " bytes, got " + data.remaining());
    }
    writeData(data);
  }

  /**
   * Completes the file and moves it to its path, replacing any file there.
   *
   * @throws IllegalStateException if some tensor's data was not written
   */
  public void finish() throws IOException {
    if (next != tensors.size()) {
      throw new IllegalStateException(
          "tensor '" + tensors.get(next).name() + "' and any after it were not written");
    }
    channel.close();
    Files.move(
        temporary, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    finished = true;
  }

  /** Releases the file; an unfinished file is deleted. */
  @Override
  public void close() throws IOException {
    if (!finished) {
      channel.close();
      Files.deleteIfExists(temporary);
    }
  }

  private TensorSpec expect(String name, long valueCount) {
    TensorSpec spec = nextTensor();
    if (spec == null || !spec.name().equals(name)) {
      throw new IllegalStateException(
          "tensor '"
              + name
              + "' is not the next to write"
              + (spec == null ? " (all are written)" : " ('" + spec.name() + "' is)"));
    }
    if (valueCount >= 0 && valueCount != spec.elementCount()) {
      throw new IllegalArgumentException(
          "tensor '" + name + "' has " + spec.elementCount() + " values, got " + valueCount);
    }
    return spec;
  }

  private void writeData(ByteBuffer data) throws IOException {
    writeFully(data);
    pad();
    next++;
  }

  private void writeFully(ByteBuffer data) throws IOException {
    while (data.hasRemaining()) {
      channel.write(data);
    }
  }

  private void pad() throws IOException {
    long position = channel.position();
    int padding = (int) (align(position, alignment) - position);
    writeFully(ByteBuffer.allocate(padding));
  }

  private static long alignment(Map<String, GgufValue> metadata) {
    GgufValue value = metadata.get("general.alignment");
    if (value == null) {
      return DEFAULT_ALIGNMENT;
    }
    if (!(value.value() instanceof Long alignment)
        || alignment <= 0
        || Long.bitCount(alignment) != 1) {
      throw new IllegalArgumentException(
          "general.alignment must be a power of two, got " + value.value());
    }
    return alignment;
  }

  private static long align(long offset, long alignment) {
    return (offset + alignment - 1) / alignment * alignment;
  }

  /** Magic, version, counts, metadata and the tensor table, with offsets laid out aligned. */
  private static byte[] header(
      Map<String, GgufValue> metadata, List<TensorSpec> tensors, long alignment) {
    HeaderBytes out = new HeaderBytes();
    out.u32(MAGIC);
    out.u32(VERSION);
    out.u64(tensors.size());
    out.u64(metadata.size());
    metadata.forEach(
        (key, value) -> {
          out.string(key);
          out.u32(value.type().id());
          out.value(key, value.type(), value.elementType(), value.value());
        });
    long offset = 0;
    for (TensorSpec tensor : tensors) {
      out.string(tensor.name());
      long[] dimensions = tensor.dimensions();
      out.u32(dimensions.length);
      for (long d : dimensions) {
        out.u64(d);
      }
      out.u32(tensor.type().id());
      out.u64(offset);
      offset = align(offset + tensor.byteSize(), alignment);
    }
    return out.toByteArray();
  }

  /** The header being built, little-endian. */
  private static final class HeaderBytes extends ByteArrayOutputStream {
    private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

    void u8(long v) {
      write((int) v);
    }

    void u16(long v) {
      scratch.clear();
      write(scratch.putShort((short) v).array(), 0, 2);
    }

    void u32(long v) {
      scratch.clear();
      write(scratch.putInt((int) v).array(), 0, 4);
    }

    void u64(long v) {
      scratch.clear();
      write(scratch.putLong(v).array(), 0, 8);
    }

    void string(String s) {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      u64(bytes.length);
      writeBytes(bytes);
    }

    void value(String key, GgufValueType type, GgufValueType elementType, Object value) {
      switch (type) {
        case BOOL -> u8((Boolean) value ? 1 : 0);
        case UINT8, INT8 -> u8(integer(key, type, value));
        case UINT16, INT16 -> u16(integer(key, type, value));
        case UINT32, INT32 -> u32(integer(key, type, value));
        case UINT64, INT64 -> u64((Long) value);
        case FLOAT32 -> u32(Float.floatToRawIntBits(((Double) value).floatValue()));
        case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) value));
        case STRING -> string((String) value);
        case ARRAY -> array(key, elementType, value);
      }
    }

    private void array(String key, GgufValueType elementType, Object value) {
      if (elementType == GgufValueType.ARRAY) {
        throw new IllegalArgumentException(
            "metadata '" + key + "' is an array of arrays, which specd does not write");
      }
      u32(elementType.id());
      if (value instanceof long[] longs) {
        u64(longs.length);
        for (long v : longs) {
          value(key, elementType, null, v);
        }
      } else if (value instanceof float[] floats) {
        u64(floats.length);
        for (float v : floats) {
          u32(Float.floatToRawIntBits(v));
        }
      } else if (value instanceof double[] doubles) {
        u64(doubles.length);
        for (double v : doubles) {
          u64(Double.doubleToRawLongBits(v));
        }
      } else if (value instanceof boolean[] booleans) {
        u64(booleans.length);
        for (boolean v : booleans) {
          u8(v ? 1 : 0);
        }
      } else {
        List<?> strings = (List<?>) value;
        u64(strings.size());
        for (Object s : strings) {
          string((String) s);
        }
      }
    }

    /** An integer checked against its type's range (a silent wrap would corrupt the file). */
    private static long integer(String key, GgufValueType type, Object value) {
      long v = (Long) value;
      int bits = 8 * type.byteSize();
      boolean unsigned = type.name().startsWith("U");
      long min = unsigned ? 0 : -(1L << (bits - 1));
      long max = unsigned ? (1L << bits) - 1 : (1L << (bits - 1)) - 1;
      if (v < min || v > max) {
        throw new IllegalArgumentException(
            "metadata '" + key + "' = " + v + " does not fit its type " + type);
      }
      return v;
    }
  }
}
