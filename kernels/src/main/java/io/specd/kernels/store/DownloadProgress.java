package io.specd.kernels.store;

/** Hears how far a download of the default model has come (called on the downloading thread). */
@FunctionalInterface
public interface DownloadProgress {
  /**
   * Bytes arrived.
   *
   * @param done bytes written so far in this attempt
   * @param total the download's length, or -1 if the server did not say
   */
  void advanced(long done, long total);
}
