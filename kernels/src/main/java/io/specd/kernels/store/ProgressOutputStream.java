package io.specd.kernels.store;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/** Passes bytes through and tells a {@link DownloadProgress} how many have gone by. */
final class ProgressOutputStream extends FilterOutputStream {
  private final DownloadProgress progress;
  private final long length;
  private long written;

  /**
   * @param out where the bytes go
   * @param length the expected total, or -1 if unknown
   */
  ProgressOutputStream(OutputStream out, long length, DownloadProgress progress) {
    super(out);
    this.length = length;
    this.progress = progress;
  }

  @Override
  public void write(int b) throws IOException {
    out.write(b);
    advance(1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    out.write(b, off, len);
    advance(len);
  }

  private void advance(int bytes) {
    written += bytes;
    progress.advanced(written, length);
  }
}
