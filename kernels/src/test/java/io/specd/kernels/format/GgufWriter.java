package io.specd.kernels.format;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes GGUF files for tests: real headers with chosen metadata, tensors and damage. */
final class GgufWriter {
  private final Map<String, Object> metadata = new LinkedHashMap<>();
  private final List<Object[]> tensors = new ArrayList<>(); // name, typeId, dims, bytes
  private int magic = 0x46554747;
  private int version = 3;

  /** A writer that starts as a copy of an existing file (metadata and tensors, F32 kept as is). */
  static GgufWriter copyOf(GgufFile file) {
    GgufWriter writer = new GgufWriter();
    writer.metadata.putAll(file.metadata());
    for (GgufTensorInfo info : file.tensors().values()) {
      writer.tensorF32(info.name(), file.readFloats(info.name()), info.dimensions());
    }
    return writer;
  }

  GgufWriter magic(int newMagic) {
    this.magic = newMagic;
    return this;
  }

  GgufWriter version(int newVersion) {
    this.version = newVersion;
    return this;
  }

  GgufWriter put(String key, Object value) {
    metadata.put(key, value);
    return this;
  }

  GgufWriter remove(String tensorName) {
    tensors.removeIf(t -> t[0].equals(tensorName));
    return this;
  }

  GgufWriter tensorF32(String name, float[] values, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return tensor(name, GgmlType.F32.id(), b.array(), dims);
  }

  GgufWriter tensorF16(String name, float[] values, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putShort(Float16.floatToHalf(v));
    }
    return tensor(name, GgmlType.F16.id(), b.array(), dims);
  }

  GgufWriter tensorBF16(String name, float[] values, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putShort(Float16.floatToBfloat16(v));
    }
    return tensor(name, GgmlType.BF16.id(), b.array(), dims);
  }

  /** Q8_0: blocks of 32 values as a float16 scale (max |v| / 127) and 32 rounded int8. */
  GgufWriter tensorQ8(String name, float[] values, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(values.length / 32 * 34).order(ByteOrder.LITTLE_ENDIAN);
    for (int block = 0; block < values.length / 32; block++) {
      float max = 0;
      for (int j = 0; j < 32; j++) {
        max = Math.max(max, Math.abs(values[block * 32 + j]));
      }
      float scale = max / 127f;
      short half = Float16.floatToHalf(scale);
      float stored = Float16.halfToFloat(half);
      b.putShort(half);
      for (int j = 0; j < 32; j++) {
        b.put((byte) (stored == 0 ? 0 : Math.round(values[block * 32 + j] / stored)));
      }
    }
    return tensor(name, GgmlType.Q8_0.id(), b.array(), dims);
  }

  GgufWriter tensor(String name, int typeId, byte[] data, long... dims) {
    tensors.add(new Object[] {name, typeId, dims, data});
    return this;
  }

  byte[] toBytes() throws IOException {
    Out out = new Out();
    out.u32(magic);
    out.u32(version);
    out.u64(tensors.size());
    out.u64(metadata.size());
    for (Map.Entry<String, Object> e : metadata.entrySet()) {
      out.string(e.getKey());
      out.value(e.getValue());
    }
    long offset = 0;
    List<Long> offsets = new ArrayList<>();
    for (Object[] t : tensors) {
      offsets.add(offset);
      offset += align(((byte[]) t[3]).length);
    }
    for (int i = 0; i < tensors.size(); i++) {
      Object[] t = tensors.get(i);
      out.string((String) t[0]);
      long[] dims = (long[]) t[2];
      out.u32(dims.length);
      for (long d : dims) {
        out.u64(d);
      }
      out.u32((Integer) t[1]);
      out.u64(offsets.get(i));
    }
    while (out.size() % 32 != 0) {
      out.write(0);
    }
    for (Object[] t : tensors) {
      byte[] data = (byte[]) t[3];
      out.write(data);
      for (long p = data.length; p < align(data.length); p++) {
        out.write(0);
      }
    }
    return out.toByteArray();
  }

  Path write(Path path) throws IOException {
    Files.write(path, toBytes());
    return path;
  }

  private static long align(long n) {
    return (n + 31) / 32 * 32;
  }

  private static final class Out extends ByteArrayOutputStream {
    void u32(long v) {
      ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v);
      writeBytes(b.array());
    }

    void u64(long v) {
      ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
      writeBytes(b.array());
    }

    void string(String s) {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      u64(bytes.length);
      writeBytes(bytes);
    }

    void value(Object v) {
      if (v instanceof String s) {
        u32(8);
        string(s);
      } else if (v instanceof Long l) {
        u32(11);
        u64(l);
      } else if (v instanceof Double d) {
        u32(6);
        u32(Float.floatToRawIntBits(d.floatValue()));
      } else if (v instanceof Boolean bool) {
        u32(7);
        write(bool ? 1 : 0);
      } else if (v instanceof float[] fs) {
        u32(9);
        u32(6);
        u64(fs.length);
        for (float f : fs) {
          u32(Float.floatToRawIntBits(f));
        }
      } else if (v instanceof long[] ls) {
        u32(9);
        u32(5);
        u64(ls.length);
        for (long l : ls) {
          u32(l);
        }
      } else if (v instanceof List<?> list) {
        u32(9);
        u32(8);
        u64(list.size());
        for (Object o : list) {
          string((String) o);
        }
      } else {
        throw new IllegalArgumentException("cannot write " + v.getClass());
      }
    }
  }
}
