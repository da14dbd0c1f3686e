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
 * <p>Resolution order: an explicit path ({@code --model}), the {@code SPECD_MODEL} environment
 * variable, {@code models/stories260K.gguf} in the working directory or in the specd checkout,
 * {@code shared/models/stories260K.gguf} beside the working directory, the checkout or any parent
 * of them, the download cache ({@code ~/.cache/specd}), and finally a download from Hugging Face
 * ({@code ggml-org/models}, {@code tinyllamas/stories260K.gguf}) checked against its SHA-256. A
 * download goes to a temporary file that is renamed into place only after the checksum matches, so
 * a failed or corrupt download leaves nothing behind (not even the cache folder, if it made it).
 */
public final class ModelStore {
  private static final Logger LOG = LoggerFactory.getLogger(ModelStore.class);

  /** The default model: Karpathy's stories260K (llama2.c, MIT), as converted by llama.cpp. */
  public static final String DEFAULT_FILE = "stories260K.gguf";

  public static final URI DEFAULT_URL =
      URI.create("https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf");

  public static final String DEFAULT_SHA256 =
      "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";

  /** The system property {@code bin/specd} sets to the checkout it runs from. */
  public static final String HOME_PROPERTY = "specd.home";

  private static final int DOWNLOAD_ATTEMPTS = 3;

  private final Path workingDirectory;
  private final Optional<Path> checkout;
  private final Path cacheDirectory;
  private final URI downloadUrl;
  private final String sha256;
  private final Optional<String> environmentModel;
  private final DownloadProgress progress;

  /**
   * @param workingDirectory where relative lookups start
   * @param checkout the specd checkout, if known (its {@code models/} is searched too)
   * @param cacheDirectory where downloads are kept
   * @param downloadUrl where the default model is downloaded from
   * @param sha256 expected checksum of the download (lower-case hex)
   * @param environmentModel the value of {@code SPECD_MODEL}, if set
   */
  public ModelStore(
      Path workingDirectory,
      Optional<Path> checkout,
      Path cacheDirectory,
      URI downloadUrl,
      String sha256,
      Optional<String> environmentModel) {
    this.workingDirectory = workingDirectory.toAbsolutePath();
    this.checkout = checkout.map(Path::toAbsolutePath);
    this.cacheDirectory = cacheDirectory;
    this.downloadUrl = downloadUrl;
    this.sha256 = sha256;
    this.environmentModel = environmentModel.filter(s -> !s.isBlank());
    this.progress = new LoggedProgress();
  }

  private ModelStore(ModelStore store, DownloadProgress progress) {
    this.workingDirectory = store.workingDirectory;
    this.checkout = store.checkout;
    this.cacheDirectory = store.cacheDirectory;
    this.downloadUrl = store.downloadUrl;
    this.sha256 = store.sha256;
    this.environmentModel = store.environmentModel;
    this.progress = progress;
  }

  /** This store, telling {@code progress} how a download goes (by default, the log at each 10%). */
  public ModelStore withProgress(DownloadProgress progress) {
    return new ModelStore(this, progress);
  }

  /** The default progress: a log line at every tenth of the download. */
  private static final class LoggedProgress implements DownloadProgress {
    private long loggedTenths;

    @Override
    public void advanced(long done, long total) {
      if (total <= 0) {
        return;
      }
      long tenths = Math.min(10, done * 10 / total);
      if (tenths < loggedTenths) { // a new attempt
        loggedTenths = 0;
      }
      if (tenths > loggedTenths) {
        loggedTenths = tenths;
        LOG.info("downloaded {}% ({} of {} bytes)", tenths * 10, done, total);
      }
    }
  }

  /**
   * The store as a user runs it: this process's directory, environment and home cache; the checkout
   * is {@code -Dspecd.home} (set by {@code bin/specd}) or else the nearest parent of the working
   * directory holding {@code bin/specd} (where Maven runs the tests).
   */
  public static ModelStore standard() {
    Path working = Path.of("").toAbsolutePath();
    Optional<Path> checkout =
        Optional.ofNullable(System.getProperty(HOME_PROPERTY))
            .filter(home -> !home.isBlank())
            .map(Path::of)
            .or(() -> checkoutAbove(working));
    return new ModelStore(
        working,
        checkout,
        Path.of(System.getProperty("user.home"), ".cache", "specd"),
        DEFAULT_URL,
        DEFAULT_SHA256,
        Optional.ofNullable(System.getenv("SPECD_MODEL")));
  }

  /** The nearest of {@code directory} and its parents that holds {@code bin/specd}. */
  public static Optional<Path> checkoutAbove(Path directory) {
    for (Path dir = directory.toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("bin").resolve("specd"))
          && Files.isRegularFile(dir.resolve("pom.xml"))) {
        return Optional.of(dir);
      }
    }
    return Optional.empty();
  }

  /**
   * The model to use.
   *
   * @param explicit the {@code --model} argument, if given (used as is, even if missing, so the
   *     loader can say so)
   * @return a path to a model file or directory
   * @throws IOException if no copy exists and the download fails; the message names every place
   *     searched and how to supply a model
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
    try {
      return download();
    } catch (IOException e) {
      throw new IOException(notFound(e.getMessage()), e);
    }
  }

  /** The model if a copy exists on this machine ({@code SPECD_MODEL} first; no download). */
  public Optional<Path> findLocal() {
    return environmentModel
        .map(Path::of)
        .filter(Files::exists)
        .or(() -> places().stream().filter(Files::isRegularFile).findFirst());
  }

  /** Every place a local copy of the default model is looked for, in order. */
  public List<Path> places() {
    List<Path> places = new ArrayList<>();
    places.add(workingDirectory.resolve("models").resolve(DEFAULT_FILE));
    checkout.ifPresent(home -> places.add(home.resolve("models").resolve(DEFAULT_FILE)));
    List<Path> starts = new ArrayList<>();
    starts.add(workingDirectory);
    checkout.ifPresent(starts::add);
    for (Path start : starts) {
      for (Path dir = start; dir != null; dir = dir.getParent()) {
        places.add(dir.resolve("shared").resolve("models").resolve(DEFAULT_FILE));
        if (dir.getParent() != null) {
          places.add(dir.resolveSibling("shared").resolve("models").resolve(DEFAULT_FILE));
        }
      }
    }
    places.add(cacheDirectory.resolve(DEFAULT_FILE));
    return places.stream().map(Path::normalize).distinct().toList();
  }

  private String notFound(String downloadFailure) {
    StringBuilder message =
        new StringBuilder("no model given and the default model (")
            .append(DEFAULT_FILE)
            .append(") is not on this machine; looked in:\n");
    places().forEach(place -> message.append("  ").append(place).append('\n'));
    return message
        .append("and ")
        .append(downloadFailure)
        .append(
            "\nSupply a model in one of three ways: --model <file.gguf or Hugging Face folder>,")
        .append(" the SPECD_MODEL environment variable, or put ")
        .append(DEFAULT_FILE)
        .append(" in ./models")
        .toString();
  }

  /**
   * Downloads the default model into the cache directory and checks its SHA-256, trying up to three
   * times when the network fails (not on an HTTP 4xx), with the progress in the log.
   *
   * @return the downloaded file
   * @throws IOException on any network, HTTP or checksum failure; no partial file remains, and a
   *     cache folder this call created is removed again
   */
  public Path download() throws IOException {
    boolean createdCache = !Files.isDirectory(cacheDirectory);
    Files.createDirectories(cacheDirectory);
    try {
      for (int attempt = 1; ; attempt++) {
        try {
          return downloadOnce();
        } catch (RetryableDownloadFailure e) {
          if (attempt == DOWNLOAD_ATTEMPTS) {
            throw new IOException(e.getMessage() + " (" + attempt + " attempts)", e.getCause());
          }
          LOG.warn("{}; retrying ({} of {})", e.getMessage(), attempt + 1, DOWNLOAD_ATTEMPTS);
          sleep(Duration.ofMillis(500L * attempt));
        }
      }
    } catch (IOException | RuntimeException e) {
      if (createdCache) {
        try (var left = Files.list(cacheDirectory)) {
          if (left.findAny().isEmpty()) {
            Files.delete(cacheDirectory);
          }
        }
      }
      throw e;
    }
  }

  /** A download failure that may pass: a network error, an HTTP 5xx or a truncated body. */
  private static final class RetryableDownloadFailure extends IOException {
    RetryableDownloadFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private Path downloadOnce() throws IOException {
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
      HttpResponse<InputStream> response;
      try {
        response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
      } catch (IOException e) {
        throw new RetryableDownloadFailure("downloading " + downloadUrl + " failed: " + e, e);
      }
      String digest;
      try (InputStream body = response.body()) {
        int status = response.statusCode();
        if (status != 200) {
          String failure = "downloading " + downloadUrl + " failed: HTTP " + status;
          throw status >= 500
              ? new RetryableDownloadFailure(failure, null)
              : new IOException(failure);
        }
        long length = response.headers().firstValueAsLong("Content-Length").orElse(-1);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (OutputStream out =
            new ProgressOutputStream(
                new DigestOutputStream(Files.newOutputStream(partial), sha), length, progress)) {
          body.transferTo(out);
        } catch (IOException e) {
          throw new RetryableDownloadFailure("downloading " + downloadUrl + " failed: " + e, e);
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
    } finally {
      Files.deleteIfExists(partial);
    }
  }

  private static void sleep(Duration pause) throws IOException {
    try {
      Thread.sleep(pause.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("the download was interrupted", e);
    }
  }
}
