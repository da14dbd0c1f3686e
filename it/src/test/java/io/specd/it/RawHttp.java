package io.specd.it;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 written by hand over a socket, for what a well-behaved client cannot send: half-sent
 * requests, bad syntax, hang-ups, any header.
 */
final class RawHttp {
  private RawHttp() {}

  /**
   * A POST of a JSON body, with {@code Host: 127.0.0.1}, the body's length and the extra header
   * lines given.
   */
  static byte[] post(String path, String body, String... headers) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    StringBuilder head =
        new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (String header : headers) {
      head.append(header).append("\r\n");
    }
    head.append("Content-Length: ").append(bytes.length).append("\r\n\r\n");
    byte[] headBytes = head.toString().getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[headBytes.length + bytes.length];
    System.arraycopy(headBytes, 0, all, 0, headBytes.length);
    System.arraycopy(bytes, 0, all, headBytes.length, bytes.length);
    return all;
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
  static Socket send(LoopbackServer server, byte[] request) throws IOException {
    return send(server, request, request.length);
  }

  /** Everything the server answers until it closes the connection (or 10 s pass). */
  static String response(Socket socket) throws IOException {
    socket.setSoTimeout(10_000);
    return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }
}
