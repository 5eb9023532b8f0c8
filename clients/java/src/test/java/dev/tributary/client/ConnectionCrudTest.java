package dev.tributary.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tributary.v1.Connection;
import dev.tributary.v1.ConnectionStatus;
import dev.tributary.v1.DeleteConnectionRequest;
import dev.tributary.v1.GetConnectionRequest;
import dev.tributary.v1.ListConnectionsRequest;
import dev.tributary.v1.ListConnectionsResponse;
import dev.tributary.v1.UpdateConnectionRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ConnectionCrudTest {
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
  void createGetListUpdateDelete() {
    Connection created = LiveServer.createFaker(client, 10, 0);
    assertEquals("faker", created.getProvider());
    assertEquals(ConnectionStatus.CONNECTION_STATUS_NEEDS_VERIFICATION, created.getStatus());
    assertEquals(10, created.getConfig().getFieldsOrThrow("row_count").getNumberValue());

    Connection fetched = client.connections().getConnection(get(created.getId()));
    assertEquals(created, fetched);

    ListConnectionsResponse listed =
        client
            .connections()
            .listConnections(ListConnectionsRequest.newBuilder().setQ(created.getName()).build());
    assertEquals(1, listed.getTotal());
    assertEquals(created.getId(), listed.getConnections(0).getId());

    String renamed = LiveServer.unique("renamed");
    Connection updated =
        client
            .connections()
            .updateConnection(
                UpdateConnectionRequest.newBuilder()
                    .setConnectionId(created.getId())
                    .setName(renamed)
                    .setEtag(created.getEtag())
                    .build());
    assertEquals(renamed, updated.getName());
    assertNotEquals(created.getEtag(), updated.getEtag());

    // The first update changed the etag, so a second one based on the old etag is a lost update.
    TributaryException stale =
        TributaryException.from(
            assertThrows(
                StatusRuntimeException.class,
                () ->
                    client
                        .connections()
                        .updateConnection(
                            UpdateConnectionRequest.newBuilder()
                                .setConnectionId(created.getId())
                                .setName("lost update")
                                .setEtag(created.getEtag())
                                .build())));
    assertEquals(Status.Code.ABORTED, stale.code());

    client
        .connections()
        .deleteConnection(
            DeleteConnectionRequest.newBuilder().setConnectionId(created.getId()).build());
    TributaryException gone =
        TributaryException.from(
            assertThrows(
                StatusRuntimeException.class,
                () -> client.connections().getConnection(get(created.getId()))));
    assertEquals(Status.Code.NOT_FOUND, gone.code());
    assertTrue(gone.fieldViolations().isEmpty());
  }

  private static GetConnectionRequest get(String id) {
    return GetConnectionRequest.newBuilder().setConnectionId(id).build();
  }
}
