package io.specd.streams.http;

import static akka.http.javadsl.server.Directives.complete;

import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpMethod;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Allow;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.ExpectedWebSocketRequestRejection;
import akka.http.javadsl.server.MethodRejection;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.scaladsl.model.EntityStreamSizeException;
import io.specd.actors.EngineOverloaded;
import io.specd.actors.EngineUnavailable;
import io.specd.actors.Withdrawn;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps every failure to OpenAI's JSON error body: refused requests ({@link ApiError}, {@link
 * IllegalArgumentException}) to 400, {@link EngineOverloaded} to 429, route rejections to 404, 405
 * and the statuses Akka HTTP chooses, anything unexpected to 500. A client never sees a stack trace
 * or an HTML page; only unexpected failures are logged with theirs.
 */
final class Errors {
  private static final Logger LOG = LoggerFactory.getLogger(Errors.class);

  private Errors() {}

  /** The API error a failure stands for. */
  static ApiError toApiError(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof ApiError api) {
      return api;
    }
    if (cause instanceof EngineOverloaded) {
      return new ApiError(
          StatusCodes.TOO_MANY_REQUESTS,
          "rate_limit_exceeded",
          cause.getMessage(),
          null,
          "rate_limit_exceeded");
    }
    if (cause instanceof EngineUnavailable) {
      return new ApiError(
          StatusCodes.SERVICE_UNAVAILABLE,
          "server_error",
          cause.getMessage(),
          null,
          "engine_unavailable");
    }
    if (cause instanceof Withdrawn) {
      return ApiError.cancelled();
    }
    if (cause instanceof IllegalArgumentException) {
      return ApiError.invalid(null, "invalid_request", cause.getMessage());
    }
    if (cause instanceof EntityStreamSizeException) {
      return new ApiError(
          StatusCodes.PAYLOAD_TOO_LARGE,
          "invalid_request_error",
          "the request body is too large",
          null,
          "payload_too_large");
    }
    LOG.error("request failed unexpectedly", cause);
    return new ApiError(
        StatusCodes.INTERNAL_SERVER_ERROR,
        "server_error",
        "internal error: " + (cause.getMessage() == null ? cause.toString() : cause.getMessage()),
        null,
        "internal_error");
  }

  /** The JSON response for a failure. */
  static HttpResponse response(Throwable failure) {
    ApiError error = toApiError(failure);
    return Json.response(error.status(), OpenAiResponses.error(error));
  }

  /** Strips the wrappers futures put around a failure. */
  static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /** Turns exceptions escaping a route into JSON errors. */
  static ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder().matchAny(e -> complete(response(e))).build();
  }

  /** Turns route rejections into JSON errors. */
  static RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handleAll(MethodRejection.class, Errors::methodNotAllowed)
        .handle(
            ExpectedWebSocketRequestRejection.class,
            r ->
                complete(
                    response(
                        ApiError.invalid(
                            null,
                            "websocket_expected",
                            "this endpoint speaks WebSocket: send an Upgrade request"))))
        .handleNotFound(
            complete(
                response(
                    new ApiError(
                        StatusCodes.NOT_FOUND,
                        "invalid_request_error",
                        "no such endpoint; see GET /v1/models, POST /v1/completions, POST"
                            + " /v1/chat/completions, GET /v1/ws, GET /health, GET /metrics",
                        null,
                        "not_found"))))
        .build()
        .withFallback(RejectionHandler.defaultHandler().mapRejectionResponse(Errors::asJson));
  }

  private static akka.http.javadsl.server.Route methodNotAllowed(List<MethodRejection> rejections) {
    List<HttpMethod> allowed = rejections.stream().map(MethodRejection::supported).toList();
    String names = String.join(", ", allowed.stream().map(HttpMethod::name).toList());
    HttpResponse response =
        response(
                new ApiError(
                    StatusCodes.METHOD_NOT_ALLOWED,
                    "invalid_request_error",
                    "method not allowed here; use " + names,
                    null,
                    "method_not_allowed"))
            .addHeader(Allow.create(allowed.toArray(new HttpMethod[0])));
    return complete(response);
  }

  /** Rewrites one of Akka HTTP's plain-text rejection responses as a JSON error. */
  private static HttpResponse asJson(HttpResponse plain) {
    HttpEntity entity = plain.entity();
    String message =
        entity instanceof HttpEntity.Strict strict
            ? strict.getData().utf8String()
            : plain.status().reason();
    ApiError error =
        new ApiError(
            plain.status(),
            plain.status().intValue() >= 500 ? "server_error" : "invalid_request_error",
            message,
            null,
            null);
    return Json.response(error.status(), OpenAiResponses.error(error))
        .addHeaders(plain.getHeaders());
  }
}
