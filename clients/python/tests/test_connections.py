"""Connection CRUD through the generated stubs, against the live server."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import struct_pb2

import tributary
from conftest import unique
from tributary.v1 import connection_pb2
from tributary.v1 import connection_service_pb2 as cs


def test_create_get_list_update_delete(client: tributary.Client) -> None:
    name = unique("crud")
    created = client.connections.CreateConnection(
        cs.CreateConnectionRequest(name=name, provider="faker", config={"row_count": 10})
    )
    assert created.id and created.etag
    assert created.status == connection_pb2.CONNECTION_STATUS_NEEDS_VERIFICATION
    assert created.config["row_count"] == 10

    got = client.connections.GetConnection(cs.GetConnectionRequest(connection_id=created.id))
    assert (got.name, got.provider, got.etag) == (name, "faker", created.etag)

    listed = client.connections.ListConnections(cs.ListConnectionsRequest(q=name))
    assert [c.id for c in listed.connections] == [created.id]
    assert listed.total == 1

    renamed = client.connections.UpdateConnection(
        cs.UpdateConnectionRequest(connection_id=created.id, name=name + " renamed", etag=created.etag)
    )
    assert renamed.name == name + " renamed"
    assert renamed.etag != created.etag

    # The etag guards against lost updates: the one read before the rename is stale now.
    config = struct_pb2.Struct()
    config.update({"row_count": 20})
    with pytest.raises(tributary.TributaryError) as stale:
        client.connections.UpdateConnection(
            cs.UpdateConnectionRequest(connection_id=created.id, config=config, etag=created.etag)
        )
    assert stale.value.code == grpc.StatusCode.ABORTED

    client.connections.DeleteConnection(cs.DeleteConnectionRequest(connection_id=created.id))
    with pytest.raises(tributary.TributaryError) as gone:
        client.connections.GetConnection(cs.GetConnectionRequest(connection_id=created.id))
    assert gone.value.code == grpc.StatusCode.NOT_FOUND
    assert gone.value.resource_info is not None
    assert gone.value.resource_info.resource_name == created.id
    assert gone.value.error_info is not None and gone.value.error_info.reason == "NOT_FOUND"
