package io.specd.streams.http;

import static org.assertj.core.api.Assertions.assertThat;

import akka.http.scaladsl.model.ErrorInfo;
import akka.http.scaladsl.model.IllegalRequestException;
import akka.http.scaladsl.model.StatusCodes;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** Failures Akka HTTP raises itself map to the OpenAI error they stand for, not to a 500. */
class ErrorsTest {
  @Test
  void aBodyThatTimedOutInToStrictEntityShouldBeA408() {
    // what toStrictEntity fails with when the body does not arrive within its timeout
    IllegalRequestException timedOut =
        IllegalRequestException.apply(
            new ErrorInfo("Request timed out after 1 second while waiting for entity data", "", ""),
            StatusCodes.RequestTimeout());

    ApiError error = Errors.toApiError(new CompletionException(timedOut));

    assertThat(error.status().intValue()).isEqualTo(408);
    assertThat(error.code()).isEqualTo("body_timeout");
  }

  @Test
  void anotherIllegalRequestShouldBeA400() {
    IllegalRequestException bad =
        IllegalRequestException.apply(
            new ErrorInfo("Illegal request", "a header that cannot be parsed", ""),
            StatusCodes.BadRequest());

    ApiError error = Errors.toApiError(bad);

    assertThat(error.status().intValue()).isEqualTo(400);
    assertThat(error.code()).isEqualTo("malformed_request");
  }
}
