package io.specd.kernels.store;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Passes bytes through and logs a download's progress at every tenth of its length. */
final class ProgressOutputStream extends FilterOutputStream {
  private static final Logger LOG = LoggerFactory.getLogger(ModelStore.class);

  private final long length;
  private long written;
  private int loggedTenths;

  /**
   * @param out where the bytes go
   * @param length the expected total, or -1 if unknown (then nothing is logged)
   */
  ProgressOutputStream(OutputStream out, long length) {
    super(out);
    this.length = length;
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
    if (length <= 0) {
      return;
    }
    int tenths = (int) Math.min(10, written * 10 / length);
    if (tenths > loggedTenths) {
      loggedTenths = tenths;
      LOG.info("downloaded {}% ({} of {} bytes)", tenths * 10, written, length);
    }
  }
}
