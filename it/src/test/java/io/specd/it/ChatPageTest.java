package io.specd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.specd.gpu.Backends;
import io.specd.kernels.format.GgmlType;
import io.specd.kernels.format.GgufFile;
import io.specd.kernels.format.GgufFileWriter;
import io.specd.kernels.format.GgufTensorInfo;
import io.specd.kernels.format.GgufValue;
import io.specd.streams.http.ChatTemplate;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The chat page at {@code /} in the system's headless Chromium against the real server: tokens
 * stream shaded by draft depth, a long answer is stopped and its session cancelled on the server, a
 * new chat clears the log, the comparison with plain decoding shows identical greedy texts, an API
 * key is asked for (again when refused) and kept for the tab, the chat template is on by default
 * only for a model that has one, errors show inline, the page reconnects when the server comes
 * back, phones from 360 px wide get no horizontal scrolling, and the dark scheme follows the
 * system's. The console stays free of errors (only the refused connections the API-key and
 * reconnection tests provoke are expected there); screenshots go to {@code target/screenshots/}.
 *
 * <p>The server runs stories260K with the bundled Clover heads, paced at 4 ms per target forward
 * (as a large model would be), so answers stream for long enough to watch and to stop.
 */
class ChatPageTest {
  private static final String PROMPT = "Once upon a time";
  private static final String CANCELLED = "specd_requests_total{finish_reason=\"cancelled\"}";
  private static LoopbackServer server;
  private static Browser browser;

  @BeforeAll
  static void start() {
    server =
        LoopbackServer.start(
            "akka.loglevel = WARNING",
            new PacedBackend(Backends.choose(null, 0), Duration.ofMillis(4)));
    browser = Browser.start();
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @AfterEach
  void consoleHasNoErrors() {
    leavePage();
    assertThat(browser.consoleErrors()).isEmpty();
  }

  @Test
  void shouldStreamTokensShadedByHowTheyWereProduced() throws Exception {
    open(server);
    assertThat(browser.find("#chat-template").isSelected())
        .as("stories260K has no chat template")
        .isFalse();
    assertThat(browser.find("#legend").getText()).contains("target's own token", "draft depth 1");
    WebElement prompt = browser.find("#prompt");
    prompt.sendKeys("first line", Keys.chord(Keys.SHIFT, Keys.ENTER), "second");
    assertThat(prompt.getAttribute("value")).isEqualTo("first line\nsecond");
    assertThat(browser.all(".turn")).isEmpty();
    prompt.clear();
    setMaxTokens(64);

    send(PROMPT);
    awaitAnswers(1);

    assertThat(answerText(0)).isEqualTo(completion(PROMPT, 64));
    assertThat(browser.all(".turn.assistant .text span.d0")).isNotEmpty();
    assertThat(browser.all(".turn.assistant .text span.d1")).isNotEmpty();
    assertThat(browser.all(".turn.assistant .text span.d2")).isNotEmpty();
    assertThat(browser.find(".turn.assistant .text span.d1").getAttribute("title"))
        .isEqualTo("accepted from the draft at depth 1");
    String stats = browser.find(".stats").getText();
    assertThat(stats)
        .contains("64 tokens", "clover / static-3", "tokens/step", "tokens/s")
        .containsPattern("accepted at depth 1: \\d+%");
    assertThat(browser.find("#spark-rate polyline").getAttribute("points")).isNotEmpty();
    assertThat(browser.find("#spark-accepted polyline").getAttribute("points")).isNotEmpty();
    assertThat(Double.parseDouble(browser.find("#live-accepted").getText())).isGreaterThan(1.0);
    Object icon =
        browser.script(
            "return fetch(document.querySelector('link[rel=icon]').href)"
                + ".then(r => r.status + ' ' + r.headers.get('content-type'));");
    assertThat(icon).isEqualTo("200 image/svg+xml");
    assertThat(
            browser.script(
                "return performance.getEntriesByType('resource').map(e => e.name)"
                    + ".filter(url => !url.startsWith(location.origin + '/'))"))
        .as("nothing loads from the network")
        .isEqualTo(List.of());
    browser.screenshot("desktop-answer");
  }

  @Test
  void shouldStopALongAnswerAndFreeItsSessionOnTheServer() throws Exception {
    open(server);
    new Select(browser.find("#policy")).selectByValue("none");
    setMaxTokens(480);

    double cancelled = server.metric(CANCELLED);
    send(PROMPT);
    browser.await(d -> answerText(0).length() > 20);
    assertThat(server.metric("specd_live_sessions")).isEqualTo(1.0);
    browser.find("#stop").click();

    assertThat(browser.find(".turn.assistant .text").getAttribute("class")).contains("stopped");
    awaitNoLiveSession();
    assertThat(server.metric(CANCELLED))
        .as("cancelled, not run to its end")
        .isEqualTo(cancelled + 1);
    assertThat(browser.find(".stats").getText()).isEmpty(); // it never finished
    browser.screenshot("stopped");
    awaitConnected(); // a new connection, ready for the next message
    setMaxTokens(8);
    send("The cat");
    awaitAnswers(1);
    assertThat(browser.all(".turn.assistant")).hasSize(2);
  }

  @Test
  void shouldClearTheChatOnNewChat() throws Exception {
    open(server);
    setMaxTokens(16);
    send(PROMPT);
    awaitAnswers(1);

    browser.find("#new-chat").click();

    assertThat(browser.all("#log > *")).isEmpty();
    send("The dog");
    awaitAnswers(1);
    assertThat(browser.all(".turn.user")).hasSize(1);
    assertThat(answerText(0)).isEqualTo(completion("The dog", 16));
  }

  @Test
  void shouldShowIdenticalGreedyTextsWhenComparingWithPlainDecoding() throws Exception {
    open(server);
    setMaxTokens(96);
    browser.find("#compare").click();

    send(PROMPT);
    WebElement verdict = browser.await(d -> nonEmpty(browser.find(".verdict")));

    assertThat(verdict.getText()).startsWith("✓ identical texts").contains("speculative", "plain");
    assertThat(answerText(0)).isNotEmpty().isEqualTo(answerText(1));
    List<WebElement> labels = browser.all(".comparison .label");
    assertThat(labels.get(0).getText()).isEqualTo("speculative (static-3)");
    assertThat(labels.get(1).getText()).isEqualTo("plain decoding (none)");
    assertThat(browser.all(".comparison > div:last-child .text span[class^=d]"))
        .allSatisfy(span -> assertThat(span.getAttribute("class")).isEqualTo("d0"));
    browser.screenshot("comparison");
  }

  @Test
  void shouldShowAnErrorInlineWithoutAnEmptyAnswer() {
    open(server);
    setMaxTokens(100_000);

    send(PROMPT);
    WebElement error = browser.await(d -> nonEmpty(browser.find(".turn.error")));

    assertThat(error.getText()).startsWith("error: ").contains("100000");
    assertThat(browser.all(".turn.assistant")).isEmpty();
    assertThat(browser.all(".stats")).isEmpty();
  }

  @Test
  void shouldAskForTheApiKeyAndKeepItForTheTab() throws Exception {
    try (LoopbackServer locked =
        LoopbackServer.start("akka.loglevel = WARNING\nspecd.http.api-key = \"s3cret\"")) {
      browser.open(locked.baseUrl() + "/");
      WebElement key = browser.await(d -> shown(browser.find("#api-key")));
      assertThat(browser.find("#status").getText()).isEqualTo("API key needed");
      browser.screenshot("api-key-prompt");

      key.sendKeys("wrong", Keys.ENTER);
      browser.await(
          d -> browser.find("#key-error").getText().equals("the server refused this key"));
      assertThat(browser.consoleErrors())
          .as("only the refused handshake and key check")
          .isNotEmpty()
          .allSatisfy(error -> assertThat(error).containsAnyOf("v1/ws", "v1/models"));
      browser.find("#api-key").sendKeys("s3cret", Keys.ENTER);
      awaitConnected();
      assertThat(browser.script("return sessionStorage.getItem('specd.api_key')"))
          .isEqualTo("s3cret");
      setMaxTokens(8);
      send(PROMPT);
      awaitAnswers(1);

      browser.driver.navigate().refresh();
      awaitConnected();
      assertThat(browser.find("#key-form").isDisplayed()).isFalse();
      leavePage(); // before its server goes
    }
  }

  @Test
  void shouldUseTheChatTemplateByDefaultWhenTheModelHasOne(@TempDir Path dir) throws Exception {
    Path model = withChatTemplate(dir.resolve("stories260K-chat.gguf"));
    try (LoopbackServer chat =
        LoopbackServer.start("akka.loglevel = WARNING", model, Backends.choose(null, 0))) {
      open(chat);
      assertThat(browser.find("#chat-template").isSelected()).isTrue();
      setMaxTokens(16);
      send("Once upon a time");
      awaitAnswers(1);
      send("The end.");
      awaitAnswers(2);
      assertThat(answerText(1)).isNotEmpty();
      leavePage(); // before its server goes
    }
  }

  @Test
  void shouldReconnectWhenTheServerComesBack() throws Exception {
    String config = "akka.loglevel = WARNING\nspecd.http.shutdown-deadline = 1s";
    LoopbackServer first = LoopbackServer.start(config);
    int port = first.server.port();
    open(first);
    first.close();
    browser.await(d -> browser.find("#status").getText().startsWith("disconnected: reconnecting"));
    assertThat(browser.find("#send").isEnabled()).isFalse();

    try (LoopbackServer again = LoopbackServer.start(config + "\nspecd.http.port = " + port)) {
      awaitConnected();
      setMaxTokens(8);
      send(PROMPT);
      awaitAnswers(1);
      leavePage(); // before its server goes
    }
    assertThat(browser.consoleErrors())
        .as("only the refused connections while the server was away")
        .allSatisfy(error -> assertThat(error).contains("v1/ws"));
  }

  @Test
  void shouldFitPhoneScreensWithoutHorizontalScrolling() throws Exception {
    try {
      for (int[] screen : new int[][] {{390, 844}, {360, 740}}) {
        browser.viewport(screen[0], screen[1]);
        open(server);
        setMaxTokens(48);
        browser.find("#compare").click();
        send(PROMPT);
        browser.await(d -> nonEmpty(browser.find(".verdict")));

        assertThat(overflowing()).as("elements wider than %d px", screen[0]).isEmpty();
        assertThat(browser.script("return document.documentElement.scrollWidth"))
            .isEqualTo((long) screen[0]);
        WebElement templateLabel = browser.find("#chat-template").findElement(By.xpath(".."));
        assertThat(templateLabel.getRect().getHeight()).as("one line").isLessThan(32);
        browser.screenshot("phone-" + screen[0] + "x" + screen[1]);
      }
    } finally {
      browser.viewport(null, null);
    }
  }

  @Test
  void shouldFollowTheSystemsColourScheme() {
    try {
      browser.colorScheme("dark");
      open(server);
      assertThat(browser.script("return getComputedStyle(document.body).backgroundColor"))
          .isEqualTo("rgb(21, 23, 26)");
      setMaxTokens(48);
      send(PROMPT);
      awaitAnswers(1);
      browser.screenshot("dark");
      browser.colorScheme("light");
      assertThat(browser.script("return getComputedStyle(document.body).backgroundColor"))
          .isEqualTo("rgb(255, 255, 255)");
    } finally {
      browser.colorScheme("");
    }
  }

  // ---- helpers ----

  /** Leaves the page, so it stops (re)connecting to its server. */
  private static void leavePage() {
    browser.open("about:blank");
  }

  private static void open(LoopbackServer on) {
    browser.open(on.baseUrl() + "/");
    awaitConnected();
  }

  private static void awaitConnected() {
    browser.await(d -> browser.find("#status").getText().equals("connected"));
  }

  private static void send(String text) {
    browser.await(d -> browser.find("#send").isEnabled());
    browser.find("#prompt").sendKeys(text, Keys.ENTER);
  }

  private static void setMaxTokens(int n) {
    WebElement max = browser.find("#max-tokens");
    max.clear();
    max.sendKeys(Integer.toString(n));
  }

  /** Waits until {@code n} answers have finished (their stats are shown). */
  private static void awaitAnswers(int n) {
    browser.await(
        d ->
            ((Long)
                    browser.script(
                        "return [...document.querySelectorAll('.stats')]"
                            + ".filter(e => e.textContent).length"))
                >= n);
  }

  /** The exact text of the i-th answer on the page. */
  private static String answerText(int i) {
    return (String)
        browser.script(
            "const t = document.querySelectorAll('.turn.assistant .text')[arguments[0]];"
                + " return t ? t.textContent : '';",
            i);
  }

  /** What the HTTP API answers greedily to the same prompt. */
  private static String completion(String prompt, int maxTokens) throws Exception {
    String body =
        server
            .client
            .send(
                server.post(
                    "/v1/completions",
                    "{\"prompt\": \"%s\", \"max_tokens\": %d, \"temperature\": 0}"
                        .formatted(prompt, maxTokens)),
                HttpResponse.BodyHandlers.ofString())
            .body();
    return LoopbackServer.JSON.readTree(body).path("choices").get(0).path("text").asText();
  }

  private static void awaitNoLiveSession() {
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(server.metric("specd_live_sessions")).isZero());
  }

  /** A copy of stories260K with a chat template (each turn's text on a line of its own). */
  private static Path withChatTemplate(Path copy) throws IOException {
    GgufFile source = GgufFile.open(LoopbackServer.stories260K());
    Map<String, GgufValue> metadata = new LinkedHashMap<>(source.typedMetadata());
    metadata.put(
        ChatTemplate.GGUF_KEY,
        GgufValue.string("{% for m in messages %}{{ m['content'] }}\n{% endfor %}"));
    List<GgufFileWriter.TensorSpec> specs = new ArrayList<>();
    for (GgufTensorInfo info : source.tensors().values()) {
      specs.add(new GgufFileWriter.TensorSpec(info.name(), GgmlType.F32, info.dimensions()));
    }
    try (GgufFileWriter writer = GgufFileWriter.create(copy, metadata, specs)) {
      for (GgufFileWriter.TensorSpec spec : specs) {
        writer.write(spec.name(), source.readFloats(spec.name()));
      }
      writer.finish();
    }
    return copy;
  }

  /** Elements reaching past the right edge of the viewport. */
  @SuppressWarnings("unchecked")
  private static List<String> overflowing() {
    return (List<String>)
        browser.script(
            "return [...document.querySelectorAll('body *')]"
                + ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)"
                + ".map(e => e.tagName + '#' + e.id + '.' + e.className"
                + " + ' right=' + e.getBoundingClientRect().right);");
  }

  private static WebElement nonEmpty(WebElement element) {
    return element.getText().isEmpty() ? null : element;
  }

  private static WebElement shown(WebElement element) {
    return element.isDisplayed() ? element : null;
  }
}
