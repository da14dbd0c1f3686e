package io.specd.kernels.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the default model, downloading it when no local copy exists.
 *
 * <p>Resolution order: an explicit path, the {@code SPECD_MODEL} environment variable, {@code
 * ./models/stories260K.gguf}, {@code ../shared/models/stories260K.gguf} (from the working directory
 * or any parent of it), the download cache ({@code ~/.cache/specd}), and finally a download from
 * Hugging Face ({@code ggml-org/models}, {@code tinyllamas/stories260K.gguf}) checked against its
 * SHA-256. A download goes to a temporary file that is renamed into place only after the checksum
 * matches, so a failed or corrupt download leaves nothing behind.
 */
public final class ModelStore {
  private static final Logger LOG = LoggerFactory.getLogger(ModelStore.class);

  /** The default model: Karpathy's stories260K (llama2.c, MIT), as converted by llama.cpp. */
  public static final String DEFAULT_FILE = "stories260K.gguf";

  public static final URI DEFAULT_URL =
      URI.create("https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf");

  public static final String DEFAULT_SHA256 =
      "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";

  private final Path workingDirectory;
  private final Path cacheDirectory;
  private final URI downloadUrl;
  private final String sha256;
  private final Optional<String> environmentModel;

  /**
   * @param workingDirectory where relative lookups start
   * @param cacheDirectory where downloads are kept
   * @param downloadUrl where the default model is downloaded from
   * @param sha256 expected checksum of the download (lower-case hex)
   * @param environmentModel the value of {@code SPECD_MODEL}, if set
   */
  public ModelStore(
      Path workingDirectory,
      Path cacheDirectory,
      URI downloadUrl,
      String sha256,
      Optional<String> environmentModel) {
    this.workingDirectory = workingDirectory.toAbsolutePath();
    this.cacheDirectory = cacheDirectory;
    this.downloadUrl = downloadUrl;
    this.sha256 = sha256;
    this.environmentModel = environmentModel.filter(s -> !s.isBlank());
  }

  /** The store as a user runs it: this process's directory, environment and home cache. */
  public static ModelStore standard() {
    return new ModelStore(
        Path.of(""),
        Path.of(System.getProperty("user.home"), ".cache", "specd"),
        DEFAULT_URL,
        DEFAULT_SHA256,
        Optional.ofNullable(System.getenv("SPECD_MODEL")));
  }

  /**
   * The model to use.
   *
   * @param explicit the {@code --model} argument, if given (used as is, even if missing, so the
   *     loader can say so)
   * @return a path to a model file or directory
   * @throws IOException if the default model has to be downloaded and the download fails
   */
  public Path resolve(Optional<Path> explicit) throws IOException {
    if (explicit.isPresent()) {
      return explicit.get();
    }
    if (environmentModel.isPresent()) {
      return Path.of(environmentModel.get());
    }
    Optional<Path> local = findLocal();
    if (local.isPresent()) {
      return local.get();
    }
    return download();
  }

  /** The default model if a copy exists on this machine (no download). */
  public Optional<Path> findLocal() {
    List<Path> candidates = new ArrayList<>();
    candidates.add(workingDirectory.resolve("models").resolve(DEFAULT_FILE));
    for (Path dir = workingDirectory; dir != null; dir = dir.getParent()) {
      candidates.add(dir.resolveSibling("shared").resolve("models").resolve(DEFAULT_FILE));
      candidates.add(dir.resolve("shared").resolve("models").resolve(DEFAULT_FILE));
    }
    candidates.add(cacheDirectory.resolve(DEFAULT_FILE));
    return candidates.stream().filter(Files::isRegularFile).findFirst();
  }

  /**
   * Downloads the default model into the cache directory and checks its SHA-256.
   *
   * @return the downloaded file
   * @throws IOException on any network, HTTP or checksum failure; no partial file remains
   */
  public Path download() throws IOException {
    Files.createDirectories(cacheDirectory);
    Path target = cacheDirectory.resolve(DEFAULT_FILE);
    Path partial = Files.createTempFile(cacheDirectory, DEFAULT_FILE, ".partial");
    LOG.info("downloading the default model from {} to {}", downloadUrl, target);
    try {
      HttpClient client =
          HttpClient.newBuilder()
              .followRedirects(HttpClient.Redirect.NORMAL)
              .connectTimeout(Duration.ofSeconds(20))
              .build();
      HttpRequest request =
          HttpRequest.newBuilder(downloadUrl).timeout(Duration.ofMinutes(10)).GET().build();
      HttpResponse<InputStream> response =
          client.send(request, HttpResponse.BodyHandlers.ofInputStream());
      String digest;
      try (InputStream body = response.body()) {
        if (response.statusCode() != 200) {
          throw new IOException(
              "downloading " + downloadUrl + " failed: HTTP " + response.statusCode());
        }
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(partial), sha)) {
          body.transferTo(out);
        }
        digest = HexFormat.of().formatHex(sha.digest());
      }
      if (!digest.equals(sha256)) {
        throw new IOException(
            "downloaded "
                + downloadUrl
                + " but its SHA-256 is "
                + digest
                + ", expected "
                + sha256
                + "; the file was discarded");
      }
      Files.move(
          partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return target;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("download of " + downloadUrl + " was interrupted", e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    } catch (IOException e) {
      throw e.getMessage() != null && e.getMessage().contains(downloadUrl.toString())
          ? e
          : new IOException("downloading " + downloadUrl + " failed: " + e, e);
    } finally {
      Files.deleteIfExists(partial);
    }
  }
}
