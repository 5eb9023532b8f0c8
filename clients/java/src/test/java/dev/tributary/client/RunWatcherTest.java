package dev.tributary.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tributary.v1.Progress;
import dev.tributary.v1.Run;
import dev.tributary.v1.RunEvent;
import dev.tributary.v1.RunServiceGrpc;
import dev.tributary.v1.RunStatus;
import dev.tributary.v1.StatusChanged;
import dev.tributary.v1.WatchRunRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** RunWatcher against scripted WatchRun streams: drops, repeats, gaps, lag and attempts. */
@Timeout(30)
class RunWatcherTest {
  private static final RetryPolicy FAST =
      new RetryPolicy(4, Duration.ofMillis(1), Duration.ofMillis(5), 2);

  private final ScriptedRuns runs = new ScriptedRuns();
  private Server server;
  private TributaryClient client;

  @BeforeEach
  void start() throws IOException {
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).directExecutor().addService(runs).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    client = TributaryClient.builder().apiKey("k").watchResumePolicy(FAST).build(channel);
  }

  @AfterEach
  void stop() {
    client.close();
    server.shutdownNow();
  }

  @Test
  void resumesWithoutRepeatsOrGaps() {
    runs.script(
        Status.UNAVAILABLE,
        snapshot("r1", 0),
        progress("r1", 1),
        progress("r1", 2),
        heartbeat("r1", 2));
    // Repeats 2 (dropped), then skips 4: reconnect after 3.
    runs.script(
        Status.OK, snapshot("r1", 2), progress("r1", 2), progress("r1", 3), progress("r1", 5));
    // A lag snapshot ahead of what was delivered: reconnect after 4.
    runs.script(Status.OK, snapshot("r1", 3), progress("r1", 4), snapshot("r1", 6));
    runs.script(
        Status.OK,
        snapshot("r1", 4),
        progress("r1", 5),
        status("r1", 6, RunStatus.RUN_STATUS_SUCCEEDED));

    List<String> delivered = new ArrayList<>();
    try (RunWatcher watcher = client.watchRun("r1")) {
      watcher.forEachRemaining(e -> delivered.add(describe(e)));
      assertEquals(3, watcher.resumeCount());
      assertEquals(6, watcher.lastSequence());
    }

    assertEquals(
        List.of("snapshot r1", "r1#1", "r1#2", "heartbeat", "r1#3", "r1#4", "r1#5", "r1#6"),
        delivered);
    assertEquals(
        List.of(0L, 2L, 3L, 4L),
        runs.requests.stream().map(WatchRunRequest::getAfterSequence).toList());
  }

  @Test
  void followsTheNextAttempt() {
    runs.script(
        Status.UNAVAILABLE,
        snapshot("r1", 0),
        status("r1", 1, RunStatus.RUN_STATUS_RUNNING),
        status("r1", 2, RunStatus.RUN_STATUS_FAILED),
        snapshot("r2", 0),
        status("r2", 1, RunStatus.RUN_STATUS_RUNNING));
    runs.script(
        Status.OK,
        snapshot("r2", 1),
        status("r2", 1, RunStatus.RUN_STATUS_RUNNING),
        status("r2", 2, RunStatus.RUN_STATUS_SUCCEEDED));

    List<String> delivered = new ArrayList<>();
    try (RunWatcher watcher =
        client.watchRun(
            WatchRunRequest.newBuilder().setRunId("r1").setFollowAttempts(true).build())) {
      watcher.stream().map(RunWatcherTest::describe).forEach(delivered::add);
      assertEquals("r2", watcher.runId());
    }

    assertEquals(List.of("snapshot r1", "r1#1", "r1#2", "snapshot r2", "r2#1", "r2#2"), delivered);
    assertEquals(
        WatchRunRequest.newBuilder()
            .setRunId("r2")
            .setAfterSequence(1)
            .setFollowAttempts(true)
            .build(),
        runs.requests.get(1));
  }

  @Test
  void otherErrorsEndTheWatch() {
    runs.script(Status.PERMISSION_DENIED, snapshot("r1", 0));
    RunWatcher watcher = client.watchRun("r1");
    assertEquals("snapshot r1", describe(watcher.next()));
    TributaryException e = assertThrows(TributaryException.class, watcher::hasNext);
    assertEquals(Status.Code.PERMISSION_DENIED, e.code());
    assertFalse(watcher.hasNext());
    assertEquals(1, runs.requests.size());
  }

  @Test
  void givesUpAfterTooManyDropsInARow() {
    for (int i = 0; i < FAST.maxAttempts(); i++) {
      runs.script(Status.UNAVAILABLE);
    }
    TributaryException e =
        assertThrows(TributaryException.class, () -> client.watchRun("r1").hasNext());
    assertEquals(Status.Code.UNAVAILABLE, e.code());
    assertEquals(FAST.maxAttempts(), runs.requests.size());
  }

  @Test
  void aGapThatPersistsIsDataLoss() {
    for (int i = 0; i < FAST.maxAttempts(); i++) {
      runs.script(Status.OK, snapshot("r1", 2), progress("r1", 2));
    }
    RunWatcher watcher = client.watchRun("r1");
    assertEquals("snapshot r1", describe(watcher.next()));
    TributaryException e = assertThrows(TributaryException.class, watcher::hasNext);
    assertEquals(Status.Code.DATA_LOSS, e.code());
    assertEquals(FAST.maxAttempts(), runs.requests.size());
  }

  @Test
  void closeEndsABlockedIteration() throws Exception {
    runs.script(null, snapshot("r1", 0)); // the stream stays open
    RunWatcher watcher = client.watchRun("r1");
    assertEquals("snapshot r1", describe(watcher.next()));
    CompletableFuture<Boolean> more = CompletableFuture.supplyAsync(watcher::hasNext);
    watcher.close();
    assertFalse(more.get(10, TimeUnit.SECONDS));
  }

  private static String describe(RunEvent e) {
    return switch (e.getEventCase()) {
      case SNAPSHOT -> "snapshot " + e.getRunId();
      case HEARTBEAT -> "heartbeat";
      default -> e.getRunId() + "#" + e.getSequence();
    };
  }

  private static RunEvent snapshot(String run, long sequence) {
    return event(run, sequence).setSnapshot(Run.newBuilder().setId(run)).build();
  }

  private static RunEvent progress(String run, long sequence) {
    return event(run, sequence)
        .setProgress(Progress.newBuilder().setEntityKey("users").setRecordsRead(sequence))
        .build();
  }

  private static RunEvent status(String run, long sequence, RunStatus to) {
    return event(run, sequence).setStatusChanged(StatusChanged.newBuilder().setTo(to)).build();
  }

  private static RunEvent heartbeat(String run, long sequence) {
    return event(run, sequence)
        .setHeartbeat(dev.tributary.v1.Heartbeat.getDefaultInstance())
        .build();
  }

  private static RunEvent.Builder event(String run, long sequence) {
    return RunEvent.newBuilder().setRunId(run).setSequence(sequence);
  }

  /** Answers each WatchRun with the next script: its events, then its status (null: stay open). */
  private static final class ScriptedRuns extends RunServiceGrpc.RunServiceImplBase {
    private record Script(Status end, List<RunEvent> events) {}

    final List<WatchRunRequest> requests = new CopyOnWriteArrayList<>();
    private final Queue<Script> scripts = new ConcurrentLinkedQueue<>();

    void script(Status end, RunEvent... events) {
      scripts.add(new Script(end, List.of(events)));
    }

    @Override
    public void watchRun(WatchRunRequest request, StreamObserver<RunEvent> response) {
      requests.add(request);
      Script script = scripts.poll();
      if (script == null) {
        response.onError(
            Status.FAILED_PRECONDITION.withDescription("no script left").asRuntimeException());
        return;
      }
      script.events().forEach(response::onNext);
      if (script.end() == null) {
        return;
      }
      if (script.end().isOk()) {
        response.onCompleted();
      } else {
        response.onError(script.end().asRuntimeException());
      }
    }
  }
}
