package io.specd.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTTP/1.1 written by hand over a socket, for what a well-behaved client cannot send: half-sent
 * requests, bad syntax, hang-ups, any header.
 */
final class RawHttp {
  private static final Pattern CONTENT_LENGTH =
      Pattern.compile("(?im)^content-length:\\s*(\\d+)\\s*$");

  private RawHttp() {}

  /**
   * A POST of a body, with {@code Host: 127.0.0.1}, the body's length and the extra header lines
   * given.
   */
  static String post(String path, String body, String... headers) {
    StringBuilder head =
        new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (String header : headers) {
      head.append(header).append("\r\n");
    }
    head.append("Content-Length: ")
        .append(body.getBytes(StandardCharsets.UTF_8).length)
        .append("\r\n\r\n");
    return head + body;
  }

  /** Opens a connection and writes the first {@code length} bytes of {@code request}. */
  static Socket send(LoopbackServer server, byte[] request, int length) throws IOException {
    Socket socket = new Socket("127.0.0.1", server.server.port());
    OutputStream out = socket.getOutputStream();
    out.write(request, 0, length);
    out.flush();
    return socket;
  }

  /** Opens a connection and writes all of {@code request}. */
  static Socket send(LoopbackServer server, String request) throws IOException {
    byte[] bytes = request.getBytes(StandardCharsets.UTF_8);
    return send(server, bytes, bytes.length);
  }

  /** Sends a request on a new connection and reads the first response. */
  static String exchange(LoopbackServer server, String request) throws IOException {
    try (Socket socket = send(server, request)) {
      return firstResponse(socket);
    }
  }

  /** Whether the server closes the connection (or resets it) without answering the request. */
  static boolean closedWithoutResponse(LoopbackServer server, String request) throws IOException {
    try (Socket socket = send(server, request)) {
      return firstResponse(socket).isEmpty();
    } catch (SocketException reset) {
      return true;
    }
  }

  /**
   * The first response on the connection: its head and its body ({@code Content-Length} bytes; none
   * for a body of unknown length), or what arrived before the server closed.
   */
  static String firstResponse(Socket socket) throws IOException {
    socket.setSoTimeout(10_000);
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while (!endsWithBlankLine(head) && (b = in.read()) >= 0) {
      head.write(b);
    }
    String text = head.toString(StandardCharsets.UTF_8);
    Matcher length = CONTENT_LENGTH.matcher(text);
    if (length.find()) {
      text += new String(in.readNBytes(Integer.parseInt(length.group(1))), StandardCharsets.UTF_8);
    }
    return text;
  }

  private static boolean endsWithBlankLine(ByteArrayOutputStream head) {
    return head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n");
  }

  /** Everything the server answers until it closes the connection (or 10 s pass). */
  static String response(Socket socket) throws IOException {
    socket.setSoTimeout(10_000);
    return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }
}
