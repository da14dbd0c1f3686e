package io.specd.kernels.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.specd.kernels.TestModels;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default-model download against a real HTTP server on loopback (there is no network). */
class ModelStoreTest {
  @TempDir Path work;
  @TempDir Path cache;
  private HttpServer server;
  private byte[] served;
  private int status = 200;

  @BeforeEach
  void startServer() throws IOException {
    served = Files.readAllBytes(TestModels.stories260K());
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf",
        exchange -> {
          exchange.sendResponseHeaders(status, status == 200 ? served.length : -1);
          try (OutputStream out = exchange.getResponseBody()) {
            if (status == 200) {
              out.write(served);
            }
          }
        });
    // Hugging Face answers with a redirect to its CDN; the client must follow it.
    server.createContext(
        "/redirect",
        exchange -> {
          exchange.getResponseHeaders().add("Location", url().toString());
          exchange.sendResponseHeaders(302, -1);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  private URI url() {
    return URI.create(
        "http://127.0.0.1:"
            + server.getAddress().getPort()
            + "/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf");
  }

  private ModelStore store(URI from) {
    return new ModelStore(
        work, Optional.empty(), cache, from, ModelStore.DEFAULT_SHA256, Optional.empty());
  }

  @Test
  void shouldDownloadAndVerifyTheDefaultModel() throws IOException {
    URI redirect = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/redirect");
    long[] progress = {0, 0};
    Path downloaded =
        store(redirect)
            .withProgress(
                (done, total) -> {
                  progress[0] = done;
                  progress[1] = total;
                })
            .download();
    assertThat(progress)
        .as("the last progress: all bytes of all")
        .containsExactly(served.length, served.length);
    assertThat(downloaded).isEqualTo(cache.resolve("stories260K.gguf"));
    assertThat(Files.readAllBytes(downloaded)).isEqualTo(served);
    assertThat(store(url()).findLocal()).isPresent();
  }

  @Test
  void aCorruptDownloadShouldLeaveNoFileBehind() throws IOException {
    served = Arrays.copyOf(served, served.length);
    served[1000] ^= 1;
    assertThatThrownBy(() -> store(url()).download())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("SHA-256")
        .hasMessageContaining("expected " + ModelStore.DEFAULT_SHA256);
    assertThat(filesIn(cache)).isEmpty();
  }

  @Test
  void anHttpErrorShouldLeaveNoFileBehind() throws IOException {
    status = 404;
    assertThatThrownBy(() -> store(url()).download())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("HTTP 404");
    assertThat(filesIn(cache)).isEmpty();
  }

  @Test
  void anUnreachableServerShouldLeaveNoFileBehind() throws IOException {
    URI nowhere = url();
    server.stop(0);
    assertThatThrownBy(() -> store(nowhere).download()).isInstanceOf(IOException.class);
    assertThat(filesIn(cache)).isEmpty();
  }

  @Test
  void aFailedDownloadShouldRemoveTheCacheFolderItMade() {
    URI nowhere = url();
    server.stop(0);
    Path fresh = cache.resolve("specd");
    ModelStore store =
        new ModelStore(
            work, Optional.empty(), fresh, nowhere, ModelStore.DEFAULT_SHA256, Optional.empty());
    assertThatThrownBy(store::download).isInstanceOf(IOException.class);
    assertThat(fresh).doesNotExist();
  }

  @Test
  void aServerErrorShouldBeRetried() throws IOException {
    int[] requests = {0};
    server.createContext(
        "/flaky",
        exchange -> {
          if (requests[0]++ == 0) {
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
            return;
          }
          exchange.sendResponseHeaders(200, served.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(served);
          }
        });
    URI flaky = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/flaky");
    Path downloaded = store(flaky).download();
    assertThat(requests[0]).isEqualTo(2);
    assertThat(Files.readAllBytes(downloaded)).isEqualTo(served);
  }

  @Test
  void withoutAnyCopyTheErrorShouldNameEveryPlaceAndTheWaysToSupplyAModel() {
    URI nowhere = url();
    server.stop(0);
    ModelStore store = store(nowhere);
    assertThatThrownBy(() -> store.resolve(Optional.empty()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(work.resolve("models").resolve("stories260K.gguf").toString())
        .hasMessageContaining(cache.resolve("stories260K.gguf").toString())
        .hasMessageContaining("--model")
        .hasMessageContaining("SPECD_MODEL")
        .hasMessageContaining("./models");
  }

  @Test
  void theCheckoutsModelsFolderShouldBeFoundFromAnyWorkingDirectory() throws IOException {
    Path checkout = Files.createDirectories(work.resolve("checkout"));
    Path model =
        Files.write(
            Files.createDirectories(checkout.resolve("models")).resolve("stories260K.gguf"),
            served);
    Path elsewhere = Files.createDirectories(work.resolve("elsewhere"));
    ModelStore store =
        new ModelStore(
            elsewhere,
            Optional.of(checkout),
            cache,
            url(),
            ModelStore.DEFAULT_SHA256,
            Optional.empty());
    assertThat(store.findLocal()).contains(model);
  }

  @Test
  void shouldPreferExplicitThenEnvironmentThenLocalCopies() throws IOException {
    ModelStore withEnvironment =
        new ModelStore(
            work,
            Optional.empty(),
            cache,
            url(),
            ModelStore.DEFAULT_SHA256,
            Optional.of("/env/model.gguf"));
    assertThat(withEnvironment.resolve(Optional.of(Path.of("given.gguf"))))
        .isEqualTo(Path.of("given.gguf"));
    assertThat(withEnvironment.resolve(Optional.empty())).isEqualTo(Path.of("/env/model.gguf"));
    Files.createDirectories(work.resolve("models"));
    Path local = Files.write(work.resolve("models").resolve("stories260K.gguf"), served);
    assertThat(store(url()).resolve(Optional.empty())).isEqualTo(local);
  }

  private static String[] filesIn(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(Path::toString).toArray(String[]::new);
    }
  }
}
