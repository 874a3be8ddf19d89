package dev.weft.controlplane.xds;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * How both ADS services ({@link AdsService}, {@link DeltaAdsService}) take a new gRPC stream: its
 * responses go through a {@link StreamWriter} on the writers' pool; gRPC's ready and cancel
 * callbacks, every request and the stream's end are handed to the service's one executor; and
 * inbound flow control reads one request of a stream at a time, asking for the next once the
 * executor has handled it (without it, thousands of ACKs, each repeating every EDS name, pile up
 * parsed in the heap while the executor is busy). Stateless.
 */
final class AdsCalls {
  private static final System.Logger logger = System.getLogger(AdsCalls.class.getName());

  private AdsCalls() {}

  /**
   * What a service does with one of its streams; every method runs on the service's executor.
   *
   * @param <Q> the request type
   */
  interface Stream<Q> {
    /** Handles {@code request} (and whatever waits on what it changed). */
    void handle(Q request);

    /** The stream has room again: write what it missed. */
    void ready();

    /** The stream ended: {@code completed} when the client half-closed it. */
    void close(boolean completed);

    /** Whether the service has closed the stream: no more requests are read. */
    boolean closed();
  }

  /** The writer of stream {@code id}'s {@code responses}: a refused write closes the stream. */
  static <R> StreamWriter<R> writer(
      long id, StreamObserver<R> responses, Executor writers, Executor executor, Stream<?> s) {
    return writer(id, responses, writers, executor, s, null);
  }

  /**
   * As {@link #writer(long, StreamObserver, Executor, Executor, Stream)}, {@code compress} telling
   * which responses gRPC compresses when the stream is compressed ({@link StreamWriter}).
   */
  static <R> StreamWriter<R> writer(
      long id,
      StreamObserver<R> responses,
      Executor writers,
      Executor executor,
      Stream<?> s,
      Predicate<R> compress) {
    return new StreamWriter<>(
        responses,
        writers,
        () -> executor.execute(s::ready),
        e ->
            executor.execute(
                () -> {
                  logger.log(Level.DEBUG, "stream " + id + " is gone: " + e);
                  s.close(false);
                }),
        compress);
  }

  /**
   * The observer of a new stream's requests: each made canonical by {@code compact} on gRPC's
   * thread (small work, before it waits for the executor), then handled on {@code executor}; {@code
   * opened} runs on the executor before any of them.
   */
  static <Q, R> StreamObserver<Q> requests(
      StreamObserver<R> responses,
      Executor executor,
      UnaryOperator<Q> compact,
      Runnable opened,
      Stream<Q> s) {
    ServerCallStreamObserver<R> call =
        responses instanceof ServerCallStreamObserver<R> c ? c : null;
    if (call != null) {
      call.setOnCancelHandler(() -> executor.execute(() -> s.close(false)));
      call.setOnReadyHandler(() -> executor.execute(s::ready));
      call.disableAutoRequest();
      call.request(1);
    }
    executor.execute(opened);
    return new StreamObserver<>() {
      @Override
      public void onNext(Q received) {
        Q request = compact.apply(received);
        executor.execute(
            () -> {
              try {
                s.handle(request);
              } finally {
                if (call != null && !s.closed()) {
                  call.request(1);
                }
              }
            });
      }

      @Override
      public void onError(Throwable t) {
        executor.execute(() -> s.close(false));
      }

      @Override
      public void onCompleted() {
        executor.execute(() -> s.close(true));
      }
    };
  }

  /** A {@link Stream} of lambdas. */
  static <Q> Stream<Q> stream(
      Consumer<Q> handle, Runnable ready, Consumer<Boolean> close, BooleanSupplier closed) {
    return new Stream<>() {
      @Override
      public void handle(Q request) {
        handle.accept(request);
      }

      @Override
      public void ready() {
        ready.run();
      }

      @Override
      public void close(boolean completed) {
        close.accept(completed);
      }

      @Override
      public boolean closed() {
        return closed.getAsBoolean();
      }
    };
  }
}
