"""Fixtures: the live server the suite runs against (TRIBUTARY_ADDR and
TRIBUTARY_API_KEY, as clients/serve-for-tests exports them), and in-process
fake servers for what a live server cannot be made to do."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

import tributary
from tributary.v1 import connection_service_pb2, run_pb2, run_service_pb2, sync_pb2, sync_service_pb2


@pytest.fixture(scope="session")
def server() -> tuple[str, str]:
    address, key = os.environ.get("TRIBUTARY_ADDR"), os.environ.get("TRIBUTARY_API_KEY")
    if not address or not key:
        pytest.fail(
            "TRIBUTARY_ADDR and TRIBUTARY_API_KEY are not set: start a server with "
            'eval "$(bash clients/serve-for-tests)" (see clients/python/README.md)',
            pytrace=False,
        )
    return address, key


@pytest.fixture
def client(server: tuple[str, str]) -> Iterator[tributary.Client]:
    with tributary.Client(server[0], server[1], plaintext=True) as c:
        yield c


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:12]}"


def poll(check: Callable[[], Any], *, timeout: float = 20.0, what: str = "condition") -> Any:
    """The first truthy value of check(), polled until the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)  # poll interval, bounded by the deadline
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def new_sync(client: tributary.Client, row_count: int, rows_per_second: int) -> sync_service_pb2.Sync:
    """A sync of the faker's users and orders; rows_per_second sets how long its runs last."""
    connection = client.connections.CreateConnection(
        connection_service_pb2.CreateConnectionRequest(
            name=unique("faker"),
            provider="faker",
            config={"row_count": row_count, "rows_per_second": rows_per_second},
        )
    )
    # Destination tables are unique per warehouse, which every test and client shares.
    tables = uuid.uuid4().hex[:12]
    return client.syncs.CreateSync(
        sync_service_pb2.CreateSyncRequest(
            name=unique("sync"),
            connection_id=connection.id,
            entities=["users", "orders"],
            table_bindings=[
                sync_pb2.TableBinding(entity_key=e, physical_table_name=f"{e}_{tables}")
                for e in ("users", "orders")
            ],
        )
    )


def trigger(client: tributary.Client, sync_id: str) -> run_pb2.Run:
    return client.syncs.TriggerSync(
        sync_service_pb2.TriggerSyncRequest(sync_id=sync_id, run_mode=run_pb2.RUN_MODE_FULL_REFRESH)
    )


def get_run(client: tributary.Client, run_id: str) -> run_pb2.Run:
    return client.runs.GetRun(run_service_pb2.GetRunRequest(run_id=run_id))


@pytest.fixture
def fake_server() -> Iterator[Callable[..., int]]:
    """Starts an in-process gRPC server: fake_server(add_servicers, credentials=None) -> port."""
    servers: list[grpc.Server] = []

    def start(add: Callable[[grpc.Server], None], credentials: grpc.ServerCredentials | None = None) -> int:
        s = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        add(s)
        port = (
            s.add_insecure_port("127.0.0.1:0")
            if credentials is None
            else s.add_secure_port("127.0.0.1:0", credentials)
        )
        s.start()
        servers.append(s)
        return port

    yield start
    for s in servers:
        s.stop(grace=None)
