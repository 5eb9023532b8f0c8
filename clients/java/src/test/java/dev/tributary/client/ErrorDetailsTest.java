package dev.tributary.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.tributary.v1.CreateConnectionRequest;
import dev.tributary.v1.GetConnectionRequest;
import dev.tributary.v1.ListProvidersRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Errors decoded from the server's google.rpc details, and API key handling. */
class ErrorDetailsTest {

  @Test
  void badRequestNamesTheField() {
    try (TributaryClient client = LiveServer.client()) {
      StatusRuntimeException thrown =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  client
                      .connections()
                      .createConnection(
                          CreateConnectionRequest.newBuilder()
                              .setName("")
                              .setProvider("faker")
                              .build()));
      TributaryException error = TributaryException.from(thrown);

      assertEquals(Status.Code.INVALID_ARGUMENT, error.code());
      assertFalse(error.description().isEmpty());
      BadRequest.FieldViolation name = error.fieldViolation("name").orElseThrow();
      assertFalse(name.getDescription().isEmpty());
      ErrorInfo info = error.errorInfo().orElseThrow();
      assertEquals("tributary.dev", info.getDomain());
      assertFalse(info.getReason().isEmpty());
    }
  }

  @Test
  void notFoundCarriesResourceInfo() {
    try (TributaryClient client = LiveServer.client()) {
      String id = UUID.randomUUID().toString();
      TributaryException error =
          TributaryException.from(
              assertThrows(
                  StatusRuntimeException.class,
                  () ->
                      client
                          .connections()
                          .getConnection(
                              GetConnectionRequest.newBuilder().setConnectionId(id).build())));
      assertEquals(Status.Code.NOT_FOUND, error.code());
      assertTrue(
          error.resourceInfo().orElseThrow().getResourceName().contains(id),
          error.resourceInfo().toString());
    }
  }

  @Test
  void badKeyIsUnauthenticated() {
    try (TributaryClient client = LiveServer.client("not-a-key")) {
      TributaryException error =
          TributaryException.from(
              assertThrows(
                  StatusRuntimeException.class,
                  () -> client.catalog().listProviders(ListProvidersRequest.getDefaultInstance())));
      assertEquals(Status.Code.UNAUTHENTICATED, error.code());
    }
    // The same call with the real key goes through, so the key is what was refused.
    try (TributaryClient client = LiveServer.client()) {
      assertTrue(
          client
                  .catalog()
                  .listProviders(ListProvidersRequest.getDefaultInstance())
                  .getProvidersCount()
              > 0);
    }
  }
}
