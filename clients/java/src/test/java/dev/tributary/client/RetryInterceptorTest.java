package dev.tributary.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tributary.v1.CatalogServiceGrpc;
import dev.tributary.v1.Connection;
import dev.tributary.v1.ConnectionServiceGrpc;
import dev.tributary.v1.CreateConnectionRequest;
import dev.tributary.v1.ExecutorServiceGrpc;
import dev.tributary.v1.GetConnectionRequest;
import dev.tributary.v1.RunEvent;
import dev.tributary.v1.RunServiceGrpc;
import dev.tributary.v1.SyncServiceGrpc;
import dev.tributary.v1.WatchRunRequest;
import dev.tributary.v1.WorkspaceServiceGrpc;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Retries, API key and default deadline, against an in-process server that fails on purpose. */
class RetryInterceptorTest {
  private static final Metadata.Key<String> API_KEY =
      Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);
  private static final RetryPolicy FAST =
      new RetryPolicy(4, Duration.ofMillis(1), Duration.ofMillis(5), 2);

  private final FlakyConnections connections = new FlakyConnections();
  private final List<List<String>> keysSeen = new CopyOnWriteArrayList<>();
  private final List<Deadline> deadlinesSeen = new CopyOnWriteArrayList<>();
  private Server server;
  private ManagedChannel channel;
  private TributaryClient client;

  @BeforeEach
  void start() throws IOException {
    String name = InProcessServerBuilder.generateName();
    ServerInterceptor recordCalls =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            List<String> keys = new ArrayList<>();
            Iterable<String> sent = headers.getAll(API_KEY);
            if (sent != null) {
              sent.forEach(keys::add);
            }
            keysSeen.add(keys);
            deadlinesSeen.add(Context.current().getDeadline());
            return next.startCall(call, headers);
          }
        };
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(ServerInterceptors.intercept(connections, recordCalls))
            .addService(ServerInterceptors.intercept(new EndingRuns(), recordCalls))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    client =
        TributaryClient.builder()
            .apiKey("key-1")
            .retryPolicy(FAST)
            .defaultDeadline(Duration.ofSeconds(7))
            .build(channel);
  }

  @AfterEach
  void stop() {
    client.close();
    server.shutdownNow();
  }

  @Test
  void idempotentCallIsRetriedUntilItSucceeds() {
    connections.failures.set(3);
    Connection c =
        client
            .connections()
            .getConnection(GetConnectionRequest.newBuilder().setConnectionId("c1").build());
    assertEquals("c1", c.getId());
    assertEquals(4, connections.calls.get());
    // Every attempt carried the key exactly once.
    assertEquals(
        List.of(List.of("key-1"), List.of("key-1"), List.of("key-1"), List.of("key-1")), keysSeen);
  }

  @Test
  void retriesAreBounded() {
    connections.failures.set(100);
    TributaryException e =
        TributaryException.from(
            assertThrows(
                StatusRuntimeException.class,
                () ->
                    client
                        .connections()
                        .getConnection(
                            GetConnectionRequest.newBuilder().setConnectionId("c1").build())));
    assertEquals(Status.Code.UNAVAILABLE, e.code());
    assertEquals(FAST.maxAttempts(), connections.calls.get());
  }

  @Test
  void futureStubIsRetriedToo() throws Exception {
    connections.failures.set(2);
    Connection c =
        client
            .connectionsFuture()
            .getConnection(GetConnectionRequest.newBuilder().setConnectionId("c2").build())
            .get(5, TimeUnit.SECONDS);
    assertEquals("c2", c.getId());
    assertEquals(3, connections.calls.get());
  }

  @Test
  void closingTheClientFailsACallWaitingForItsRetry() throws Exception {
    connections.failures.set(100);
    RetryPolicy slow = new RetryPolicy(3, Duration.ofSeconds(60), Duration.ofSeconds(60), 1);
    TributaryClient patient =
        TributaryClient.builder()
            .apiKey("k")
            .retryPolicy(slow)
            .defaultDeadline(Duration.ofMinutes(10))
            .build(channel);
    var call =
        patient
            .connectionsFuture()
            .getConnection(GetConnectionRequest.newBuilder().setConnectionId("c1").build());
    patient.close();
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
    assertEquals(Status.Code.UNAVAILABLE, TributaryException.from(e).code());
  }

  @Test
  void nonIdempotentCallIsNotRetried() {
    connections.failures.set(1);
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                client
                    .connections()
                    .createConnection(CreateConnectionRequest.newBuilder().setName("x").build()));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    assertEquals(1, connections.calls.get());
  }

  @Test
  void otherErrorsAreNotRetried() {
    connections.failWith = Status.NOT_FOUND;
    connections.failures.set(1);
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () ->
                client
                    .connectionsFuture()
                    .getConnection(GetConnectionRequest.getDefaultInstance())
                    .get(5, TimeUnit.SECONDS));
    assertEquals(Status.Code.NOT_FOUND, TributaryException.from(e).code());
    assertEquals(1, connections.calls.get());
  }

  @Test
  void defaultDeadlineAppliesToUnaryCallsOnly() {
    client
        .connections()
        .getConnection(GetConnectionRequest.newBuilder().setConnectionId("c1").build());
    client
        .runs()
        .watchRun(WatchRunRequest.newBuilder().setRunId("r1").build())
        .forEachRemaining(event -> {});
    client
        .connections()
        .withDeadlineAfter(60, TimeUnit.SECONDS)
        .getConnection(GetConnectionRequest.getDefaultInstance());

    assertEquals(3, deadlinesSeen.size());
    long unary = deadlinesSeen.get(0).timeRemaining(TimeUnit.SECONDS);
    assertTrue(unary > 0 && unary <= 7, "default deadline of 7 s, got " + unary);
    assertNull(deadlinesSeen.get(1), "a stream gets no default deadline");
    assertTrue(
        deadlinesSeen.get(2).timeRemaining(TimeUnit.SECONDS) > 7, "the caller's own deadline wins");
  }

  @Test
  void onlyReadsAndChecksAreIdempotent() {
    List<ServiceDescriptor> services =
        List.of(
            ConnectionServiceGrpc.getServiceDescriptor(),
            CatalogServiceGrpc.getServiceDescriptor(),
            SyncServiceGrpc.getServiceDescriptor(),
            RunServiceGrpc.getServiceDescriptor(),
            ExecutorServiceGrpc.getServiceDescriptor(),
            WorkspaceServiceGrpc.getServiceDescriptor());
    List<String> neverRetried =
        List.of(
            "Create",
            "Update",
            "Delete",
            "Trigger",
            "Retry",
            "Cancel",
            "Disable",
            "Reactivate",
            "SetDefault",
            "Reset",
            "Revoke",
            "Claim",
            "Heartbeat",
            "Report",
            "Append",
            "Complete");
    int checked = 0;
    for (ServiceDescriptor service : services) {
      for (MethodDescriptor<?, ?> method : service.getMethods()) {
        String name = method.getBareMethodName();
        boolean idempotent = RetryPolicy.isIdempotent(method);
        if (neverRetried.stream().anyMatch(name::startsWith)) {
          assertFalse(idempotent, name);
        } else if (method.getType() == MethodDescriptor.MethodType.UNARY) {
          assertTrue(idempotent, name + " is a read and should be retried");
        }
        checked++;
      }
    }
    assertTrue(checked > 40, "checked " + checked + " methods");
    Map<String, Boolean> named =
        Map.of(
            "tributary.v1.RunService/GetRun", true,
            "tributary.v1.ConnectionService/VerifyConnection", true,
            "tributary.v1.SyncService/TriggerSync", false,
            "tributary.v1.RunService/RetryRun", false,
            "tributary.v1.RunService/CancelRun", false,
            "grpc.health.v1.Health/Check", false);
    named.forEach(
        (method, expected) -> assertEquals(expected, RetryPolicy.isIdempotent(method), method));
  }

  /** Fails the first {@code failures} calls with {@code failWith}, then answers. */
  private static final class FlakyConnections
      extends ConnectionServiceGrpc.ConnectionServiceImplBase {
    final AtomicInteger failures = new AtomicInteger();
    final AtomicInteger calls = new AtomicInteger();
    volatile Status failWith = Status.UNAVAILABLE.withDescription("try again");

    @Override
    public void getConnection(GetConnectionRequest request, StreamObserver<Connection> response) {
      answer(Connection.newBuilder().setId(request.getConnectionId()).build(), response);
    }

    @Override
    public void createConnection(
        CreateConnectionRequest request, StreamObserver<Connection> response) {
      answer(Connection.newBuilder().setName(request.getName()).build(), response);
    }

    private void answer(Connection connection, StreamObserver<Connection> response) {
      calls.incrementAndGet();
      if (failures.getAndDecrement() > 0) {
        response.onError(failWith.asRuntimeException());
        return;
      }
      response.onNext(connection);
      response.onCompleted();
    }
  }

  /** A WatchRun that ends at once, to see which deadline a stream gets. */
  private static final class EndingRuns extends RunServiceGrpc.RunServiceImplBase {
    @Override
    public void watchRun(WatchRunRequest request, StreamObserver<RunEvent> response) {
      response.onCompleted();
    }
  }
}
