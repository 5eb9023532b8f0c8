package dev.tributary.example;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.tributary.client.RunWatcher;
import dev.tributary.client.TributaryClient;
import dev.tributary.client.TributaryException;
import dev.tributary.v1.Connection;
import dev.tributary.v1.CreateConnectionRequest;
import dev.tributary.v1.CreateSyncRequest;
import dev.tributary.v1.EntitySummary;
import dev.tributary.v1.GetRunRequest;
import dev.tributary.v1.Progress;
import dev.tributary.v1.Run;
import dev.tributary.v1.RunEvent;
import dev.tributary.v1.RunMode;
import dev.tributary.v1.RunStatus;
import dev.tributary.v1.StatusChanged;
import dev.tributary.v1.Sync;
import dev.tributary.v1.TableBinding;
import dev.tributary.v1.TriggerSyncRequest;
import dev.tributary.v1.VerifyConnectionRequest;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.UUID;

/**
 * The whole story against a live server: a faker connection, a sync of two of its entities, a run
 * watched live to its end, and the run's summary. Exits 0 only when the run SUCCEEDED.
 *
 * <p>Needs TRIBUTARY_ADDR (host:port, plaintext) and TRIBUTARY_API_KEY.
 */
public final class FakerSyncExample {
  private FakerSyncExample() {}

  public static void main(String[] args) {
    String address = System.getenv("TRIBUTARY_ADDR");
    String apiKey = System.getenv("TRIBUTARY_API_KEY");
    if (address == null || apiKey == null) {
      System.err.println("set TRIBUTARY_ADDR and TRIBUTARY_API_KEY");
      System.exit(2);
    }
    try (TributaryClient client =
        TributaryClient.builder().address(address).apiKey(apiKey).plaintext().build()) {
      Run run = runSync(client);
      System.exit(run.getStatus() == RunStatus.RUN_STATUS_SUCCEEDED ? 0 : 1);
    } catch (StatusRuntimeException e) {
      TributaryException error = TributaryException.from(e);
      System.err.println("failed: " + error.code() + " " + error.description());
      error
          .fieldViolations()
          .forEach(v -> System.err.println("  " + v.getField() + ": " + v.getDescription()));
      System.exit(1);
    }
  }

  private static Run runSync(TributaryClient client) {
    Connection connection =
        client
            .connections()
            .createConnection(
                CreateConnectionRequest.newBuilder()
                    .setName("Java example " + UUID.randomUUID())
                    .setProvider("faker")
                    .setConfig(
                        Struct.newBuilder()
                            .putFields("row_count", number(2000))
                            .putFields("rows_per_second", number(1000)))
                    .build());
    connection =
        client
            .connections()
            .verifyConnection(
                VerifyConnectionRequest.newBuilder().setConnectionId(connection.getId()).build());
    System.out.printf("connection %s: %s%n", connection.getId(), connection.getStatus());

    // Destination table names are unique per warehouse: give this sync its own.
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    CreateSyncRequest.Builder sync =
        CreateSyncRequest.newBuilder()
            .setName("Java example sync " + suffix)
            .setConnectionId(connection.getId());
    for (String entity : List.of("users", "orders")) {
      sync.addEntities(entity)
          .addTableBindings(
              TableBinding.newBuilder()
                  .setEntityKey(entity)
                  .setPhysicalTableName(entity + "_" + suffix));
    }
    Sync created = client.syncs().createSync(sync.build());
    System.out.printf("sync %s: %s%n", created.getId(), created.getEntitiesList());

    Run run =
        client
            .syncs()
            .triggerSync(
                TriggerSyncRequest.newBuilder()
                    .setSyncId(created.getId())
                    .setRunMode(RunMode.RUN_MODE_FULL_REFRESH)
                    .build());
    System.out.printf("run %s: %s%n", run.getId(), run.getStatus());

    try (RunWatcher watcher = client.watchRun(run.getId())) {
      watcher.forEachRemaining(FakerSyncExample::print);
      System.out.printf("watch ended (stream resumed %d times)%n", watcher.resumeCount());
    }

    Run finished = client.runs().getRun(GetRunRequest.newBuilder().setRunId(run.getId()).build());
    System.out.printf(
        "run %s: %s, %d records read, %d written, %d bytes%n",
        finished.getId(),
        finished.getStatus(),
        finished.getSummary().getRecordsRead(),
        finished.getSummary().getRecordsWritten(),
        finished.getSummary().getBytes());
    for (EntitySummary entity : finished.getSummary().getEntitiesList()) {
      System.out.printf(
          "  %-8s %6d read %6d written%n",
          entity.getEntityKey(), entity.getRecordsRead(), entity.getRecordsWritten());
    }
    return finished;
  }

  private static void print(RunEvent event) {
    String what =
        switch (event.getEventCase()) {
          case SNAPSHOT -> "snapshot  " + event.getSnapshot().getStatus();
          case STATUS_CHANGED -> {
            StatusChanged change = event.getStatusChanged();
            yield "status    %s -> %s".formatted(change.getFrom(), change.getTo());
          }
          case PROGRESS -> {
            Progress progress = event.getProgress();
            yield "progress  %s %d read"
                .formatted(progress.getEntityKey(), progress.getRecordsRead());
          }
          case LOG -> "log       " + event.getLog().getLevel() + " " + event.getLog().getMessage();
          case HEARTBEAT -> "heartbeat " + event.getHeartbeat().getRecordsRead() + " read";
          // WatchRuns only: a sync's data went stale, or is fresh again.
          case FRESHNESS_CHANGED ->
              "freshness " + (event.getFreshnessChanged().getBreached() ? "breached" : "recovered");
          case EVENT_NOT_SET -> "event of a newer API";
        };
    System.out.printf("  #%-4d %s%n", event.getSequence(), what);
  }

  private static Value number(double value) {
    return Value.newBuilder().setNumberValue(value).build();
  }
}
