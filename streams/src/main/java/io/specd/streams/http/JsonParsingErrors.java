package io.specd.streams.http;

import akka.event.LoggingAdapter;
import akka.http.ParsingErrorHandler;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.scaladsl.model.ErrorInfo;
import akka.http.scaladsl.model.StatusCode;
import akka.http.scaladsl.settings.ServerSettings;

/**
 * Answers requests too malformed to reach the routes (bad request line, too many or too long
 * headers, a long URI, bad chunking, an unsupported HTTP version or method) with the API's JSON
 * error instead of Akka HTTP's plain text, and logs them at DEBUG: a client sending garbage must
 * not fill the log. Akka HTTP creates it from {@code akka.http.server.parsing.error-handler}.
 */
public final class JsonParsingErrors extends ParsingErrorHandler {

  @Override
  public HttpResponse handle(
      StatusCode status, ErrorInfo error, LoggingAdapter log, ServerSettings settings) {
    log.debug("refused a malformed request ({}): {}", status.intValue(), error.formatPretty());
    ApiError api =
        new ApiError(
            StatusCodes.get(status.intValue()),
            status.intValue() >= 500 ? "server_error" : "invalid_request_error",
            error.summary().isEmpty() ? status.reason() : error.summary(),
            null,
            "malformed_request");
    return Errors.response(api);
  }
}
