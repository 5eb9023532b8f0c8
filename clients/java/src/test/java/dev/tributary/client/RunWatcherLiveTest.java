package dev.tributary.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tributary.v1.CancelRunRequest;
import dev.tributary.v1.Connection;
import dev.tributary.v1.GetRunRequest;
import dev.tributary.v1.RetryRunRequest;
import dev.tributary.v1.Run;
import dev.tributary.v1.RunEvent;
import dev.tributary.v1.RunMode;
import dev.tributary.v1.RunStatus;
import dev.tributary.v1.Sync;
import dev.tributary.v1.TriggerSyncRequest;
import dev.tributary.v1.WatchRunRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** WatchRun against a server that cuts every stream after 1 s (clients/serve-for-tests). */
@Timeout(90)
class RunWatcherLiveTest {
  private static TributaryClient client;

  @BeforeAll
  static void connect() {
    client = LiveServer.client();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  @Test
  void deliversEveryEventOnceAcrossDroppedStreams() {
    // 4000 rows at 1000 rows/s, paced per 1000-row batch: a run of about 3 s, which the 1 s
    // stream cap cuts several times.
    Connection connection = LiveServer.createFaker(client, 4000, 1000);
    Sync sync = LiveServer.createSync(client, connection, "users");
    Run run = trigger(sync);

    List<RunEvent> events;
    int resumes;
    try (RunWatcher watcher = client.watchRun(run.getId())) {
      events = watcher.stream().collect(Collectors.toList());
      resumes = watcher.resumeCount();
      assertEquals(run.getId(), watcher.runId());
    }

    assertTrue(events.get(0).hasSnapshot(), "the first event is the snapshot");
    assertEquals(1, events.stream().filter(RunEvent::hasSnapshot).count(), "one snapshot");
    List<RunEvent> persisted = persisted(events);
    assertEquals(
        sequences(1, persisted.size()), persisted.stream().map(RunEvent::getSequence).toList());
    RunEvent last = persisted.get(persisted.size() - 1);
    assertEquals(RunStatus.RUN_STATUS_SUCCEEDED, last.getStatusChanged().getTo());
    assertTrue(resumes >= 1, "the watcher resumed at least once, got " + resumes);

    Run finished = client.runs().getRun(GetRunRequest.newBuilder().setRunId(run.getId()).build());
    assertEquals(RunStatus.RUN_STATUS_SUCCEEDED, finished.getStatus());
    assertEquals(
        finished.getLastEventSequence(), last.getSequence(), "no persisted event was missed");
    assertEquals(4000, finished.getSummary().getRecordsRead());
  }

  @Test
  void followsLaterAttempts() {
    // Slow enough never to finish on its own while the test cancels it.
    Connection connection = LiveServer.createFaker(client, 100_000, 100);
    Sync sync = LiveServer.createSync(client, connection, "users");
    Run first = trigger(sync);
    cancelAndAwait(first.getId());
    Run second =
        client.runs().retryRun(RetryRunRequest.newBuilder().setRunId(first.getId()).build());
    assertNotEquals(first.getId(), second.getId());
    cancelAndAwait(second.getId());

    List<RunEvent> events = new ArrayList<>();
    try (RunWatcher watcher =
        client.watchRun(
            WatchRunRequest.newBuilder().setRunId(first.getId()).setFollowAttempts(true).build())) {
      watcher.forEachRemaining(events::add);
      assertEquals(second.getId(), watcher.runId());
    }

    for (Run attempt : List.of(first, second)) {
      List<RunEvent> ofAttempt =
          events.stream().filter(e -> e.getRunId().equals(attempt.getId())).toList();
      assertTrue(ofAttempt.get(0).hasSnapshot(), "each attempt starts with its snapshot");
      List<RunEvent> persisted = persisted(ofAttempt);
      assertEquals(
          sequences(1, persisted.size()), persisted.stream().map(RunEvent::getSequence).toList());
      assertEquals(
          RunStatus.RUN_STATUS_CANCELLED,
          persisted.get(persisted.size() - 1).getStatusChanged().getTo());
    }
    int switchedAt =
        events.indexOf(
            events.stream()
                .filter(e -> e.getRunId().equals(second.getId()))
                .findFirst()
                .orElseThrow());
    assertTrue(
        events.subList(switchedAt, events.size()).stream()
            .allMatch(e -> e.getRunId().equals(second.getId())),
        "the first attempt's events all come before the second's");
  }

  private static Run trigger(Sync sync) {
    return client
        .syncs()
        .triggerSync(
            TriggerSyncRequest.newBuilder()
                .setSyncId(sync.getId())
                .setRunMode(RunMode.RUN_MODE_FULL_REFRESH)
                .build());
  }

  /** Cancels a run and waits, by watching it, until it is CANCELLED. */
  private static void cancelAndAwait(String runId) {
    client
        .runs()
        .cancelRun(CancelRunRequest.newBuilder().setRunId(runId).setReason("test").build());
    try (RunWatcher watcher = client.watchRun(runId)) {
      watcher.forEachRemaining(event -> {});
    }
    Run run = client.runs().getRun(GetRunRequest.newBuilder().setRunId(runId).build());
    assertEquals(RunStatus.RUN_STATUS_CANCELLED, run.getStatus());
  }

  private static List<RunEvent> persisted(List<RunEvent> events) {
    return events.stream().filter(e -> !e.hasSnapshot() && !e.hasHeartbeat()).toList();
  }

  private static List<Long> sequences(long from, long to) {
    return LongStream.rangeClosed(from, to).boxed().toList();
  }
}
