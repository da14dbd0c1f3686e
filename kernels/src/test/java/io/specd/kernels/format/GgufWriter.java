package io.specd.kernels.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds small GGUF files for tests, with chosen metadata, tensors and damage, through {@link
 * GgufFileWriter}.
 */
final class GgufWriter {
  private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
  private final List<GgufFileWriter.TensorSpec> specs = new ArrayList<>();
  private final List<ByteBuffer> data = new ArrayList<>();
  private int version = 3;

  /** A writer that starts as a copy of an existing file (metadata and tensors, F32 kept as is). */
  static GgufWriter copyOf(GgufFile file) {
    GgufWriter writer = new GgufWriter();
    writer.metadata.putAll(file.typedMetadata());
    for (GgufTensorInfo info : file.tensors().values()) {
      writer.tensorF32(info.name(), file.readFloats(info.name()), info.dimensions());
    }
    return writer;
  }

  /** Writes another version number in place of 3 (the rest stays a version 3 layout). */
  GgufWriter version(int newVersion) {
    this.version = newVersion;
    return this;
  }

  /** Sets a metadata value; Java types map to GGUF types as {@link GgufFile} reads them. */
  GgufWriter put(String key, Object value) {
    GgufValue typed;
    if (value instanceof String s) {
      typed = GgufValue.string(s);
    } else if (value instanceof Long l) {
      typed = new GgufValue(GgufValueType.INT64, null, l);
    } else if (value instanceof Double d) {
      typed = GgufValue.float32(d);
    } else if (value instanceof Boolean b) {
      typed = new GgufValue(GgufValueType.BOOL, null, b);
    } else if (value instanceof float[] fs) {
      typed = new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT32, fs);
    } else if (value instanceof long[] ls) {
      typed = GgufValue.int32Array(ls);
    } else {
      typed = new GgufValue(GgufValueType.ARRAY, GgufValueType.STRING, value);
    }
    metadata.put(key, typed);
    return this;
  }

  GgufWriter remove(String tensorName) {
    for (int i = specs.size() - 1; i >= 0; i--) {
      if (specs.get(i).name().equals(tensorName)) {
        specs.remove(i);
        data.remove(i);
      }
    }
    return this;
  }

  GgufWriter tensorF32(String name, float[] values, long... dims) {
    return encoded(name, GgmlType.F32, values, dims);
  }

  GgufWriter tensorF16(String name, float[] values, long... dims) {
    return encoded(name, GgmlType.F16, values, dims);
  }

  GgufWriter tensorBF16(String name, float[] values, long... dims) {
    return encoded(name, GgmlType.BF16, values, dims);
  }

  /** Q8_0 with ggml's reference quantization. */
  GgufWriter tensorQ8(String name, float[] values, long... dims) {
    return encoded(name, GgmlType.Q8_0, values, dims);
  }

  /** A tensor of any type from its encoded bytes. */
  GgufWriter tensor(String name, int typeId, byte[] bytes, long... dims) {
    GgmlType type = GgmlType.byId(typeId).orElseThrow();
    specs.add(new GgufFileWriter.TensorSpec(name, type, dims));
    data.add(ByteBuffer.wrap(bytes));
    return this;
  }

  Path write(Path path) throws IOException {
    try (GgufFileWriter writer = GgufFileWriter.create(path, metadata, specs)) {
      for (int i = 0; i < specs.size(); i++) {
        writer.writeEncoded(specs.get(i).name(), data.get(i).duplicate());
      }
      writer.finish();
    }
    if (version != 3) {
      try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
        channel.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, version), 4);
      }
    }
    return path;
  }

  private GgufWriter encoded(String name, GgmlType type, float[] values, long... dims) {
    return tensor(name, type.id(), TensorEncoder.encode(type, values).array(), dims);
  }
}
