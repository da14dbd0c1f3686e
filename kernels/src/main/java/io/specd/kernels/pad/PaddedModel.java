package io.specd.kernels.pad;

import java.nio.file.Path;

/**
 * A padded model file as written.
 *
 * @param path the GGUF file
 * @param parameters the number of weights in it
 * @param fileSize its size in bytes
 * @param fingerprint the weights' fingerprint (as {@link io.specd.kernels.llama.Fingerprint}
 *     computes it from the file), which its drafter heads record
 * @param plan how it was padded
 */
public record PaddedModel(
    Path path, long parameters, long fileSize, String fingerprint, PadPlan plan) {}
