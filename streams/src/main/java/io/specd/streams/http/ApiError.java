package io.specd.streams.http;

import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;

/**
 * A request the server refuses, with everything the OpenAI error body carries: {@code {"error":
 * {"message", "type", "param", "code"}}}. Thrown while a request is read and checked, and turned
 * into a JSON response by the routes' exception handler; never logged with a stack trace.
 */
public final class ApiError extends RuntimeException {
  private final StatusCode status;
  private final String type;
  private final String param;
  private final String code;

  /**
   * @param status the HTTP status
   * @param type the OpenAI error type ({@code invalid_request_error}, {@code rate_limit_exceeded},
   *     {@code server_error}, …)
   * @param message what is wrong and what to do about it
   * @param param the request field at fault, or null
   * @param code a short machine-readable code, or null
   */
  public ApiError(StatusCode status, String type, String message, String param, String code) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
  }

  /** A 400 for a bad field. */
  public static ApiError invalid(String param, String code, String message) {
    return new ApiError(StatusCodes.BAD_REQUEST, "invalid_request_error", message, param, code);
  }

  /** A request body over {@code specd.http.limits.body-bytes}. */
  static ApiError payloadTooLarge() {
    return new ApiError(
        StatusCodes.PAYLOAD_TOO_LARGE,
        "invalid_request_error",
        "the request body is larger than this server's limit (specd.http.limits.body-bytes)",
        null,
        "payload_too_large");
  }

  /** A generation still running when the server's shutdown deadline passed. */
  static ApiError shuttingDown() {
    return new ApiError(
        StatusCodes.SERVICE_UNAVAILABLE,
        "server_error",
        "the server is shutting down (specd.http.shutdown-deadline passed)",
        null,
        "server_shutting_down");
  }

  /** A generation cancelled because its client went away (an answer nobody reads). */
  static ApiError cancelled() {
    return new ApiError(
        StatusCodes.SERVICE_UNAVAILABLE,
        "server_error",
        "the generation was cancelled: the client went away",
        null,
        "cancelled");
  }

  public StatusCode status() {
    return status;
  }

  public String type() {
    return type;
  }

  /** The field at fault, or null. */
  public String param() {
    return param;
  }

  /** The short code, or null. */
  public String code() {
    return code;
  }
}
