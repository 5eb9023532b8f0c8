"""Which calls are retried, and what the client adds to each call, checked
on an in-process fake server that can fail on demand."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import grpc
import pytest

import tributary
from tributary._retry import SERVICES, service_config
from tributary.v1 import (
    connection_pb2,
    connection_service_pb2_grpc,
    run_pb2,
    run_service_pb2,
    run_service_pb2_grpc,
)
from tributary.v1 import (
    connection_service_pb2 as cs,
)

# Every RPC of the API that may be retried; the rest must never be.
IDEMPOTENT = {
    "ConnectionService": {"ListConnections", "GetConnection", "GetConnectionBySlug", "VerifyConnection",
                          "ListFiles", "ValidateFileSelection", "ListSchemaTables", "ListSchemaColumns"},
    "CatalogService": {"ListProviders", "GetProviderCatalog"},
    "SyncService": {"ListSyncs", "GetSync", "ListSyncRuns"},
    "RunService": {"GetRun", "ListRuns", "ListRunLogs"},
    "ExecutorService": set(),
    "WorkspaceService": {"GetWorkspace", "ListWorkspaces", "ListApiKeys"},
}  # fmt: skip
STREAMS = {"WatchRun", "WatchRuns"}


def test_classification_of_every_rpc() -> None:
    for service in SERVICES:
        for method in service.methods:
            if method.name in STREAMS:
                continue
            expected = method.name in IDEMPOTENT[service.name]
            assert tributary.is_idempotent(method.name) is expected, method.full_name
            assert tributary.is_idempotent(f"/{service.full_name}/{method.name}") is expected
    for acting in [
        "CreateConnection",
        "UpdateSync",
        "DeleteConnection",
        "TriggerSync",
        "RetryRun",
        "CancelRun",
    ]:
        assert not tributary.is_idempotent(acting)


def test_service_config_retries_only_unavailable_on_idempotent_unary_methods() -> None:
    config = json.loads(service_config(tributary.RetryPolicy(max_attempts=3)))
    [method_config] = config["methodConfig"]
    names = {(n["service"].removeprefix("tributary.v1."), n["method"]) for n in method_config["name"]}
    assert names == {(s, m) for s, methods in IDEMPOTENT.items() for m in methods}
    assert method_config["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert method_config["retryPolicy"]["maxAttempts"] == 3
    with pytest.raises(ValueError):
        service_config(tributary.RetryPolicy(max_attempts=6))


class FlakyConnections(connection_service_pb2_grpc.ConnectionServiceServicer):
    """Fails every call with UNAVAILABLE until `failures` calls have failed."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[str, dict[str, str], float | None]] = []

    def _answer(self, method: str, context: grpc.ServicerContext) -> connection_pb2.Connection:
        self.calls.append((method, dict(context.invocation_metadata()), context.time_remaining()))
        if len(self.calls) <= self.failures:
            context.abort(grpc.StatusCode.UNAVAILABLE, "try again")
        return connection_pb2.Connection(id="c1")

    def GetConnection(self, request: Any, context: grpc.ServicerContext) -> connection_pb2.Connection:  # noqa: N802
        return self._answer("GetConnection", context)

    def CreateConnection(self, request: Any, context: grpc.ServicerContext) -> connection_pb2.Connection:  # noqa: N802
        return self._answer("CreateConnection", context)


def flaky_client(
    fake_server: Callable[..., int], servicer: FlakyConnections, **kwargs: Any
) -> tributary.Client:
    port = fake_server(
        lambda s: connection_service_pb2_grpc.add_ConnectionServiceServicer_to_server(servicer, s)
    )
    retry = tributary.RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05)
    return tributary.Client(f"127.0.0.1:{port}", "k-123", plaintext=True, retry=retry, **kwargs)


def test_a_read_is_retried_on_unavailable(fake_server: Callable[..., int]) -> None:
    servicer = FlakyConnections(failures=2)
    with flaky_client(fake_server, servicer) as client:
        got = client.connections.GetConnection(cs.GetConnectionRequest(connection_id="c1"))
    assert got.id == "c1"
    assert [c[0] for c in servicer.calls] == ["GetConnection"] * 3


def test_retries_are_bounded(fake_server: Callable[..., int]) -> None:
    servicer = FlakyConnections(failures=10)
    with flaky_client(fake_server, servicer) as client, pytest.raises(tributary.TributaryError) as caught:
        client.connections.GetConnection(cs.GetConnectionRequest(connection_id="c1"))
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert len(servicer.calls) == 4


def test_a_create_is_never_retried(fake_server: Callable[..., int]) -> None:
    servicer = FlakyConnections(failures=1)
    with flaky_client(fake_server, servicer) as client, pytest.raises(tributary.TributaryError) as caught:
        client.connections.CreateConnection(cs.CreateConnectionRequest(name="n", provider="faker"))
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert caught.value.message == "try again"
    assert [c[0] for c in servicer.calls] == ["CreateConnection"]


def test_api_key_and_default_deadline(fake_server: Callable[..., int]) -> None:
    servicer = FlakyConnections(failures=0)
    with flaky_client(fake_server, servicer, default_timeout=7.0) as client:
        client.connections.GetConnection(cs.GetConnectionRequest(connection_id="c1"))
        client.connections.GetConnection(cs.GetConnectionRequest(connection_id="c1"), timeout=2.0)
    (_, metadata, default), (_, _, explicit) = servicer.calls
    assert metadata["x-api-key"] == "k-123"
    # The server reads the deadline back from the grpc-timeout header against its own
    # clock, which gRPC rounds up, so it may see a few milliseconds over 7 s.
    assert default is not None and 5.0 < default < 7.5
    assert explicit is not None and explicit < 2.5  # the caller's own timeout wins


class OneEventRuns(run_service_pb2_grpc.RunServiceServicer):
    def __init__(self) -> None:
        self.time_remaining: list[float | None] = []

    def WatchRun(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.time_remaining.append(context.time_remaining())
        yield run_pb2.RunEvent(run_id=request.run_id, snapshot=run_pb2.Run(id=request.run_id))


def test_streams_get_no_default_deadline(fake_server: Callable[..., int]) -> None:
    servicer = OneEventRuns()
    port = fake_server(lambda s: run_service_pb2_grpc.add_RunServiceServicer_to_server(servicer, s))
    with tributary.Client(f"127.0.0.1:{port}", "k", plaintext=True, default_timeout=7.0) as client:
        events = list(client.runs.WatchRun(run_service_pb2.WatchRunRequest(run_id="r1")))
    assert [e.run_id for e in events] == ["r1"]
    [remaining] = servicer.time_remaining
    assert remaining is None or remaining > 1e9  # grpc reports no deadline as 'forever'
