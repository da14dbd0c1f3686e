package io.specd.streams.http;

import static akka.http.javadsl.server.Directives.complete;

import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpMethod;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Allow;
import akka.http.javadsl.model.headers.RetryAfter;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.ExpectedWebSocketRequestRejection;
import akka.http.javadsl.server.MalformedRequestContentRejection;
import akka.http.javadsl.server.MethodRejection;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.scaladsl.model.EntityStreamException;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.http.scaladsl.model.IllegalRequestException;
import io.specd.actors.EngineOverloaded;
import io.specd.actors.EngineUnavailable;
import io.specd.actors.Withdrawn;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps every failure to OpenAI's JSON error body: refused requests ({@link ApiError}) to their
 * status, {@link EngineOverloaded} to 429 with {@code Retry-After}, {@link EngineUnavailable} to
 * 503, route rejections to 404, 405 and the statuses Akka HTTP chooses, anything unexpected
 * (including an {@link IllegalArgumentException} the request checks did not foresee) to 500. A
 * client never sees a stack trace, an HTML page or an internal message: an unexpected failure is
 * logged once with an error id, and the 500 body carries only that id.
 */
final class Errors {
  private static final Logger LOG = LoggerFactory.getLogger(Errors.class);

  /** When a refused client should try again: a session frees within about a second. */
  private static final long RETRY_AFTER_SECONDS = 1;

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
    if (cause instanceof TimeoutException) { // the body did not arrive in time (toStrictEntity)
      return bodyTimeout();
    }
    if (cause instanceof IllegalRequestException illegal) { // Akka HTTP's own refusals
      // toStrictEntity turns its timeout into one with status 408 (seen in CI: a 500 before)
      return illegal.status().intValue() == StatusCodes.REQUEST_TIMEOUT.intValue()
          ? bodyTimeout()
          : ApiError.invalid(null, "malformed_request", illegal.info().summary());
    }
    if (cause instanceof EntityStreamException broken) {
      return ApiError.invalid(null, "malformed_request", broken.info().summary());
    }
    if (cause instanceof EntityStreamSizeException) {
      return ApiError.payloadTooLarge();
    }
    String id = Long.toHexString(ThreadLocalRandom.current().nextLong());
    LOG.error("request failed unexpectedly (error id {})", id, cause);
    return new ApiError(
        StatusCodes.INTERNAL_SERVER_ERROR,
        "server_error",
        "internal error (error id " + id + " in the server's log)",
        null,
        "internal_error");
  }

  private static ApiError bodyTimeout() {
    return new ApiError(
        StatusCodes.REQUEST_TIMEOUT,
        "invalid_request_error",
        "the request body did not arrive in time (specd.http.limits.body-timeout)",
        null,
        "body_timeout");
  }

  /** The JSON response for a failure. */
  static HttpResponse response(Throwable failure) {
    ApiError error = toApiError(failure);
    HttpResponse response = Json.response(error.status(), OpenAiResponses.error(error));
    return error.status().equals(StatusCodes.TOO_MANY_REQUESTS)
        ? response.addHeader(RetryAfter.create(RETRY_AFTER_SECONDS))
        : response;
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
        .handle(MalformedRequestContentRejection.class, r -> complete(response(r.getCause())))
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
