package io.specd.it;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.WebSocket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** A WebSocket listener that collects whole text frames (joining fragments) as JSON. */
record WebSocketFrames(BlockingQueue<JsonNode> frames, StringBuilder partial)
    implements WebSocket.Listener {
  WebSocketFrames(BlockingQueue<JsonNode> frames) {
    this(frames, new StringBuilder());
  }

  /** Opens {@code /v1/ws} on the server; its frames go to {@code frames}. */
  static WebSocket connect(LoopbackServer server, BlockingQueue<JsonNode> frames) throws Exception {
    return server
        .client
        .newWebSocketBuilder()
        .buildAsync(server.webSocketUri("/v1/ws"), new WebSocketFrames(frames))
        .get(10, TimeUnit.SECONDS);
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      try {
        frames.add(LoopbackServer.JSON.readTree(partial.toString()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      partial.setLength(0);
    }
    webSocket.request(1);
    return null;
  }
}
