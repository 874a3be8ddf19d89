package dev.weft.controlplane.xds;

import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Admission of new connections to the xDS port: at most {@code ratePerSecond} a second (a token
 * bucket holding up to {@code burst} tokens, as Istio's {@code PILOT_MAX_REQUESTS_PER_SECOND}
 * limiter, {@code rate.NewLimiter}) and at most {@code maxHandshakes} admitted connections whose
 * TLS handshake has not finished yet. A connection that is not admitted is not refused: it waits
 * (the server does not accept it from the kernel's listen queue, so no handshake timer of the
 * server runs for it) and is admitted when a token and a handshake slot are free. In a connect
 * storm (2000 proxies at once) the handshakes so run at the pace the machine can do them, instead
 * of all at once, each too slow to finish before its timeout, and every failed one retried.
 *
 * <p>Istio refuses a stream that waited a second for its token ({@code ResourceExhausted}) and lets
 * Envoy's backoff retry it; Weft keeps the connection queued instead, as the brief of issue #10
 * asks: nothing is refused and nothing is retried.
 *
 * <p>Thread-safe. The clock is injectable ({@link Builder#clock}) for tests.
 */
public final class ConnectionAdmission {
  private static final long NANOS = 1_000_000_000L;

  /** The answer of {@link #tryAdmit} when every handshake slot is taken. */
  public static final long WAIT_FOR_SLOT = -1;

  private final double ratePerSecond;
  private final double burst;
  private final int maxHandshakes;
  private final int listenBacklog;
  private final Duration handshakeTimeout;
  private final LongSupplier nanoClock;

  // Guarded by this.
  private double tokens;
  private long refilledAt;
  private int handshaking;
  private int peakHandshaking;
  private boolean slotWanted;
  private long admitted;
  private long lastFinished;
  private boolean finishedAny;
  private Runnable slotListener = () -> {};

  private ConnectionAdmission(Builder b) {
    this.ratePerSecond = b.ratePerSecond;
    this.burst = b.burst;
    this.maxHandshakes = b.maxHandshakes;
    this.listenBacklog = b.listenBacklog;
    this.handshakeTimeout = b.handshakeTimeout;
    this.nanoClock = b.nanoClock;
    this.tokens = burst;
    this.refilledAt = nanoClock.getAsLong();
  }

  /** The defaults ({@link Builder}). */
  public static ConnectionAdmission defaults() {
    return builder().build();
  }

  /**
   * A builder with the defaults: 1000 connections a second with a burst of 200, 16 handshakes per
   * core at once (they bound the server's handshake work; on a loaded machine 64 per core did no
   * better: docs/benchmarks.md), a listen queue of 4096 (Linux caps it at {@code
   * net.core.somaxconn}) and a TLS handshake timeout of 60 s. The rate is a ceiling the handshake
   * slots reach first: at 200 a second (Istio's default, {@code min(15 + 5 × cores, 100)}, is lower
   * still) a storm of 2000 proxies took at least 9 s to admit however fast the handshakes went, and
   * as every stream's first answers wait for the push context that holds its registration
   * (RegistrationWait), most proxies got their first response only when the storm ended, while a
   * core sat idle (docs/benchmarks.md, "Control plane at scale", 2026-12-01 scale/first).
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Takes a token and a handshake slot when both are free: returns 0, and the caller accepts one
   * connection (then {@link #release} when its handshake ends, or {@link #refund} when there was
   * none to accept). Otherwise takes nothing and returns {@link #WAIT_FOR_SLOT} when every slot is
   * taken (the slot listener runs when one frees), else the nanoseconds until the next token.
   */
  public long tryAdmit() {
    synchronized (this) {
      if (handshaking >= maxHandshakes) {
        slotWanted = true;
        return WAIT_FOR_SLOT;
      }
      refill();
      if (tokens < 1) {
        return Math.max(1, (long) Math.ceil((1 - tokens) / ratePerSecond * NANOS));
      }
      tokens -= 1;
      handshaking++;
      peakHandshaking = Math.max(peakHandshaking, handshaking);
      admitted++;
      return 0;
    }
  }

  /** Gives back what {@link #tryAdmit} took when there was no connection to accept. */
  public void refund() {
    synchronized (this) {
      tokens = Math.min(burst, tokens + 1);
      admitted--;
    }
    free(false);
  }

  /**
   * An admitted connection finished its handshake (or closed before): its slot is free. Runs the
   * slot listener when a connection waits for a slot.
   */
  public void release() {
    free(true);
  }

  private void free(boolean finished) {
    boolean notify;
    Runnable listener;
    synchronized (this) {
      if (handshaking == 0) {
        throw new IllegalStateException("release without an admitted connection");
      }
      handshaking--;
      if (finished) {
        lastFinished = nanoClock.getAsLong();
        finishedAny = true;
      }
      notify = slotWanted;
      slotWanted = false;
      listener = slotListener;
    }
    if (notify) {
      listener.run();
    }
  }

  /** Sets what runs when a slot frees after {@link #tryAdmit} answered {@link #WAIT_FOR_SLOT}. */
  public synchronized void onSlotFree(Runnable listener) {
    this.slotListener = Objects.requireNonNull(listener, "listener");
  }

  /**
   * Whether a connect storm's handshakes are under way: admitted connections are still in their
   * handshake and another one finished within {@code recent}. Handshakes that stall on their own (a
   * slow or hostile client holding its slot) are not a storm.
   */
  public synchronized boolean handshakesUnderWay(Duration recent) {
    return handshaking > 0
        && finishedAny
        && nanoClock.getAsLong() - lastFinished < recent.toNanos();
  }

  /** How many admitted connections are still in their handshake. */
  public synchronized int handshaking() {
    return handshaking;
  }

  /**
   * How many established connections may wait in the kernel's listen queue ({@code SO_BACKLOG}).
   * This is where a connect storm queues. Envoy has no TLS handshake timeout, so its connections
   * wait there as long as they must; a gRPC-Java client (10 s from its TCP connect, not
   * configurable) fails when the queue is longer than the server handshakes in 10 s, and retries
   * after its backoff. A shorter queue makes the kernel drop the SYNs beyond it instead (their
   * clients resend them, 1, 2, 4, 8 s apart), which no TLS timer counts but a connect timeout does.
   */
  public int listenBacklog() {
    return listenBacklog;
  }

  /**
   * How long an admitted connection's TLS handshake may take, from its accept, before the server
   * closes it (zero: no limit). Envoy's listeners have none by default; gRPC-Java's server has a
   * fixed 10 s, too short when handshakes wait behind a sync's encryption on the event loops. The
   * limit stays because an admitted connection holds a handshake slot until its handshake ends: a
   * client that connects and never speaks frees it at this timeout.
   */
  public Duration handshakeTimeout() {
    return handshakeTimeout;
  }

  /** The most admitted connections that were in their handshake at once. */
  public synchronized int peakHandshaking() {
    return peakHandshaking;
  }

  /** How many connections were admitted so far. */
  public synchronized long admitted() {
    return admitted;
  }

  private void refill() {
    long now = nanoClock.getAsLong();
    long elapsed = now - refilledAt;
    if (elapsed > 0) {
      tokens = Math.min(burst, tokens + elapsed * ratePerSecond / NANOS);
      refilledAt = now;
    }
  }

  /** Options of a {@link ConnectionAdmission}. */
  public static final class Builder {
    private double ratePerSecond = 1000;
    private double burst = 200;
    private int maxHandshakes = 16 * Runtime.getRuntime().availableProcessors();
    private int listenBacklog = 4096;
    private Duration handshakeTimeout = Duration.ofSeconds(60);
    private LongSupplier nanoClock = System::nanoTime;

    private Builder() {}

    /** New connections a second, and how many may come at once after a quiet time. */
    public Builder rate(double perSecond, int burst) {
      if (!(perSecond > 0) || burst < 1) {
        throw new IllegalArgumentException("the rate and burst must be positive");
      }
      this.ratePerSecond = perSecond;
      this.burst = burst;
      return this;
    }

    /** How many admitted connections may be in their TLS handshake at once. */
    public Builder maxHandshakes(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxHandshakes must be at least 1");
      }
      this.maxHandshakes = max;
      return this;
    }

    /** The listen queue's length ({@link ConnectionAdmission#listenBacklog}). */
    public Builder listenBacklog(int backlog) {
      if (backlog < 1) {
        throw new IllegalArgumentException("listenBacklog must be at least 1");
      }
      this.listenBacklog = backlog;
      return this;
    }

    /** The TLS handshake timeout ({@link ConnectionAdmission#handshakeTimeout}); zero: none. */
    public Builder handshakeTimeout(Duration timeout) {
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("handshakeTimeout must not be negative");
      }
      this.handshakeTimeout = timeout;
      return this;
    }

    /** The clock tokens refill by, in nanoseconds ({@link System#nanoTime} by default). */
    public Builder clock(LongSupplier nanoClock) {
      this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
      return this;
    }

    public ConnectionAdmission build() {
      return new ConnectionAdmission(this);
    }
  }
}
