package io.specd.streams.http;

import akka.NotUsed;
import akka.actor.Cancellable;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.stream.KillSwitches;
import akka.stream.Materializer;
import akka.stream.SharedKillSwitch;
import akka.stream.javadsl.Flow;
import akka.util.ByteString;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import scala.jdk.javaapi.DurationConverters;

/**
 * Closes connections that owe the server a request: one that has not sent a whole request head
 * within {@code specd.http.header-timeout} of opening, or of its last response ending, is aborted.
 * Akka HTTP's own idle timeout must stay as long as the longest whole response (nothing is written
 * while it is computed), so without this a client that trickles half a request head held a
 * connection for minutes (slowloris). A connection upgraded to a WebSocket is left alone (it has
 * its own pings). Thread-safe: the counters are guarded by the instance.
 */
final class HeaderTimeout {
  private final Duration timeout;
  private final Materializer materializer;
  private final SharedKillSwitch connection = KillSwitches.shared("header-timeout");
  private int inProgress;
  private long epoch;
  private boolean upgraded;
  private Cancellable deadline;

  private HeaderTimeout(Duration timeout, Materializer materializer) {
    this.timeout = timeout;
    this.materializer = materializer;
  }

  /** A connection's handler: {@code handler} under the header timeout. */
  static Flow<HttpRequest, HttpResponse, NotUsed> around(
      Flow<HttpRequest, HttpResponse, NotUsed> handler, Duration timeout) {
    return Flow.fromMaterializer(
            (materializer, attributes) -> {
              HeaderTimeout watch = new HeaderTimeout(timeout, materializer);
              watch.idle();
              return Flow.<HttpRequest>create()
                  .map(
                      request -> {
                        watch.requestArrived();
                        return request;
                      })
                  .via(handler)
                  .map(watch::watch)
                  .via(watch.connection.flow());
            })
        .mapMaterializedValue(notUsed -> NotUsed.getInstance());
  }

  private synchronized void requestArrived() {
    inProgress++;
    epoch++;
    if (deadline != null) {
      deadline.cancel();
    }
  }

  /** The response, watched until its entity is written. */
  private HttpResponse watch(HttpResponse response) {
    if (response.status().equals(StatusCodes.SWITCHING_PROTOCOLS)) {
      synchronized (this) {
        upgraded = true;
      }
      return response;
    }
    if (response.entity().isStrict()) {
      responseEnded();
      return response;
    }
    Flow<ByteString, ByteString, Object> watched =
        Flow.<ByteString>create()
            .watchTermination(
                (notUsed, done) -> {
                  done.whenComplete((ok, error) -> responseEnded());
                  return (Object) notUsed;
                });
    return response.withEntity(
        ((akka.http.scaladsl.model.ResponseEntity) response.entity())
            .transformDataBytes(watched.asScala()));
  }

  private synchronized void responseEnded() {
    inProgress--;
    if (inProgress == 0) {
      idle();
    }
  }

  /** Starts the deadline for the next request head. */
  private synchronized void idle() {
    long armed = ++epoch;
    deadline = materializer.scheduleOnce(DurationConverters.toScala(timeout), () -> expire(armed));
  }

  private synchronized void expire(long armed) {
    if (armed == epoch && inProgress == 0 && !upgraded) {
      connection.abort(new TimeoutException("no request head within " + timeout));
    }
  }
}
