package dev.tributary.client;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.tributary.v1.Connection;
import dev.tributary.v1.CreateConnectionRequest;
import dev.tributary.v1.CreateSyncRequest;
import dev.tributary.v1.Sync;
import dev.tributary.v1.TableBinding;
import java.util.UUID;

/** The server the live tests run against: TRIBUTARY_ADDR (plaintext) and TRIBUTARY_API_KEY. */
final class LiveServer {
  private LiveServer() {}

  static TributaryClient client() {
    return client(apiKey());
  }

  static TributaryClient client(String apiKey) {
    return TributaryClient.builder().address(address()).apiKey(apiKey).plaintext().build();
  }

  static String address() {
    return required("TRIBUTARY_ADDR");
  }

  static String apiKey() {
    return required("TRIBUTARY_API_KEY");
  }

  /** A name no other test run uses, so tests never see each other's resources. */
  static String unique(String prefix) {
    return prefix + " " + UUID.randomUUID();
  }

  static Connection createFaker(TributaryClient client, int rowCount, int rowsPerSecond) {
    Struct config =
        Struct.newBuilder()
            .putFields("row_count", Value.newBuilder().setNumberValue(rowCount).build())
            .putFields("rows_per_second", Value.newBuilder().setNumberValue(rowsPerSecond).build())
            .build();
    return client
        .connections()
        .createConnection(
            CreateConnectionRequest.newBuilder()
                .setName(unique("java faker"))
                .setProvider("faker")
                .setConfig(config)
                .build());
  }

  /**
   * A sync of {@code entities} into tables of their own: table names are unique per destination,
   * and every client's tests share the server's warehouse.
   */
  static Sync createSync(TributaryClient client, Connection connection, String... entities) {
    String suffix = UUID.randomUUID().toString().replace("-", "");
    CreateSyncRequest.Builder request =
        CreateSyncRequest.newBuilder()
            .setName(unique("java sync"))
            .setConnectionId(connection.getId());
    for (String entity : entities) {
      request
          .addEntities(entity)
          .addTableBindings(
              TableBinding.newBuilder()
                  .setEntityKey(entity)
                  .setPhysicalTableName(entity + "_" + suffix));
    }
    return client.syncs().createSync(request.build());
  }

  private static String required(String name) {
    String value = System.getenv(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          name
              + " is not set: the live tests need a server, e.g. "
              + "eval \"$(bash clients/serve-for-tests)\" from the repository root");
    }
    return value;
  }
}
