package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.Status;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.ca.CallerAuthenticator;
import dev.weft.controlplane.ca.WorkloadIdentity;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.PushController;
import dev.weft.controlplane.registry.WorkloadRegistry;
import dev.weft.controlplane.store.ConfigStore;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Context;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state-of-the-world ADS service's flow rules, driven without gRPC: the service's executor is
 * the test's ({@link ManualExecutor}, run only when the test says so), a stream is a {@link
 * FakeCall} whose readiness (gRPC's flow control) and writes the test controls, so what the
 * executor decided is checked right after it ran, with no timing involved. Only the writes
 * themselves run on the service's writers' pool, as in production.
 */
class AdsServiceFlowTest {
  private static final String V1_SUBSET = "outbound|80|v1|podinfo.demo.svc.cluster.local";
  private static final String V2_SUBSET = "outbound|80|v2|podinfo.demo.svc.cluster.local";

  @TempDir Path dir;
  final ManualExecutor executor = new ManualExecutor();
  ConfigStore store;
  AdsService ads;

  @BeforeEach
  void start() throws Exception {
    store = ConfigStore.open(dir, Clock.systemUTC());
    assertThat(store.apply("podinfo.yaml", Fixtures.fixtures("podinfo.yaml")).ok()).isTrue();
    WorkloadRegistry registry = new WorkloadRegistry();
    PushController push =
        new PushController(
            store,
            registry,
            Clock.systemUTC(),
            Duration.ZERO,
            (task, delay) -> executor.execute(task));
    ads = new AdsService(executor, push, registry, 0, GenerationPool.NONE);
  }

  @AfterEach
  void stop() throws Exception {
    ads.close();
    store.close();
  }

  /** The service's serializing executor: runs its tasks when the test calls {@link #runAll}. */
  static final class ManualExecutor implements Executor {
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();

    @Override
    public void execute(Runnable task) {
      tasks.add(task);
    }

    /** Runs the tasks queued, and those they queue, until none is left. */
    void runAll() {
      for (Runnable t = tasks.poll(); t != null; t = tasks.poll()) {
        t.run();
      }
    }
  }

  /** gRPC's side of one stream: the test sets whether it is ready and whether writes fail. */
  static final class FakeCall extends ServerCallStreamObserver<DiscoveryResponse> {
    final BlockingQueue<DiscoveryResponse> written = new LinkedBlockingQueue<>();
    volatile boolean ready = true;
    volatile boolean failWrites;
    Runnable onReady;

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable handler) {}

    @Override
    public void setCompression(String compression) {}

    @Override
    public boolean isReady() {
      return ready;
    }

    @Override
    public void setOnReadyHandler(Runnable handler) {
      onReady = handler;
    }

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void disableAutoRequest() {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void onNext(DiscoveryResponse value) {
      if (failWrites) {
        throw io.grpc.Status.UNAVAILABLE.withDescription("the proxy is gone").asRuntimeException();
      }
      written.add(value);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}

    /**
     * The next response written once gRPC says the stream is ready: its on-ready handler, then the
     * executor, until a response comes (its writer may still be finishing the previous one, and the
     * stream is not ready until it is idle) or 10 s passed.
     */
    DiscoveryResponse afterReady(ManualExecutor executor) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      DiscoveryResponse r = null;
      while (r == null) {
        assertThat(System.nanoTime()).as("a response once ready").isLessThan(deadline);
        onReady.run();
        executor.runAll();
        r = written.poll(1, TimeUnit.MILLISECONDS);
      }
      return r;
    }

    /** The next response written (waits up to 10 s for the writers' pool). */
    DiscoveryResponse next() throws InterruptedException {
      DiscoveryResponse r = written.poll(10, TimeUnit.SECONDS);
      assertThat(r).as("a response written within 10 s").isNotNull();
      return r;
    }
  }

  /** A stream opened by the workload v1's proxy (its credential's identity). */
  private StreamObserver<DiscoveryRequest> open(FakeCall call) throws Exception {
    Proxy v1 = Fixtures.v1();
    WorkloadIdentity caller =
        new WorkloadIdentity(
            v1.namespace(), v1.serviceAccount(), v1.name(), Instant.now().plusSeconds(3600));
    return Context.current()
        .withValue(CallerAuthenticator.CALLER, caller)
        .call(() -> ads.streamAggregatedResources(call));
  }

  private ProxyStatus.TypeStatus status(String type) {
    return ads.proxies().getFirst().types().get(type);
  }

  private static List<String> clusters(DiscoveryResponse eds) throws Exception {
    List<String> out = new ArrayList<>();
    for (var a : eds.getResourcesList()) {
      out.add(a.unpack(ClusterLoadAssignment.class).getClusterName());
    }
    return out;
  }

  /**
   * A NACK that also subscribes new names is a new subscription to answer (Envoy's xDS protocol
   * doc, "How the client specifies what resources to return": every request's {@code
   * resource_names} is the whole subscription), answered under the same flow control as any
   * request: a stream that gRPC's flow control reports not ready is written nothing until it
   * drains.
   */
  @Test
  void aNackWithNewNamesWaitsForAStreamThatIsNotReady() throws Exception {
    FakeCall call = new FakeCall();
    StreamObserver<DiscoveryRequest> requests = open(call);
    requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(Fixtures.v1Node())
            .setTypeUrl(TypeUrls.ENDPOINT)
            .addResourceNames(V2_SUBSET) // not v1's: its registration's push changes none of it
            .build());
    executor.runAll();
    DiscoveryResponse first = call.next();
    assertThat(clusters(first)).containsExactly(V2_SUBSET);

    call.ready = false; // the proxy stops reading: gRPC's flow control holds the stream
    requests.onNext(
        DiscoveryRequest.newBuilder()
            .setTypeUrl(TypeUrls.ENDPOINT)
            .addResourceNames(V1_SUBSET)
            .addResourceNames(V2_SUBSET)
            .setResponseNonce(first.getNonce())
            .setErrorDetail(Status.newBuilder().setCode(3).setMessage("rejected"))
            .build());
    executor.runAll();
    assertThat(status("EDS").nack()).as("the NACK, of the response sent").isNotNull();
    assertThat(status("EDS").sent())
        .as("nothing sent to a stream that is not ready")
        .isEqualTo(first.getVersionInfo());

    call.ready = true; // it reads again: gRPC's on-ready handler (again until its writer is idle)
    DiscoveryResponse answer = call.afterReady(executor);
    assertThat(clusters(answer)).containsExactlyInAnyOrder(V1_SUBSET, V2_SUBSET);
    assertThat(status("EDS").sent()).isEqualTo(answer.getVersionInfo());
  }

  /**
   * A write that fails (the proxy is gone) ends the stream on the writers' pool, which hands the
   * close to the executor ({@link AdsCalls#writer}) as its own task (so never in the middle of a
   * push's loop): the sync waiters are checked then, and a generation the stream held back is
   * answered without waiting for its timeout, another request or push.
   */
  @Test
  void aStreamWhoseWriteFailsNoLongerHoldsASync() throws Exception {
    FakeCall call = new FakeCall();
    StreamObserver<DiscoveryRequest> requests = open(call);
    List<String> names = List.of("http_proxy");
    requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(Fixtures.v1Node())
            .setTypeUrl(TypeUrls.ROUTE)
            .addAllResourceNames(names)
            .build());
    executor.runAll();
    DiscoveryResponse first = call.next();
    requests.onNext(
        DiscoveryRequest.newBuilder()
            .setTypeUrl(TypeUrls.ROUTE)
            .addAllResourceNames(names)
            .setVersionInfo(first.getVersionInfo())
            .setResponseNonce(first.getNonce())
            .build());
    executor.runAll();

    call.failWrites = true; // the proxy is gone: the next write fails
    var outcome =
        store.apply("vs.yaml", Fixtures.parse("vs.yaml", AdsServiceTest.MESH_VS.formatted("v2")));
    assertThat(outcome.ok()).isTrue();
    long generation = Long.parseLong(outcome.results().getFirst().resourceVersion());
    CompletableFuture<SyncReport> sync =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return ads.awaitSync(generation, Duration.ofMinutes(1));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!sync.isDone()) {
      assertThat(System.nanoTime()).as("the sync, well before its timeout").isLessThan(deadline);
      executor.runAll();
      Thread.sleep(1); // polling interval of a condition wait
    }
    SyncReport report = sync.join();
    assertThat(report.done()).isTrue();
    assertThat(report.connected()).as("the stream is closed").isZero();
    assertThat(call.written).as("nothing written after the failure").isEmpty();
  }
}
