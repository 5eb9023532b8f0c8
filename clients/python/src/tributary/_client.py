"""Client: the tributary.v1 stubs over one configured channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from tributary._interceptors import Interceptor
from tributary._options import TLS, UNARY_RETRY, WATCH_RETRY, RetryPolicy
from tributary._retry import service_config
from tributary._watch import RunWatch
from tributary.v1 import (
    catalog_service_pb2_grpc,
    connection_service_pb2_grpc,
    executor_service_pb2_grpc,
    run_service_pb2_grpc,
    sync_service_pb2_grpc,
    workspace_service_pb2_grpc,
)


def build_channel_options(
    plaintext: bool, tls: TLS | None, retry: RetryPolicy, extra: Sequence[tuple[str, Any]]
) -> list[tuple[str, Any]]:
    if plaintext and tls is not None:
        raise ValueError("pass either plaintext=True or tls, not both")
    return [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", service_config(retry)),
        *(tls.channel_options() if tls else []),
        *extra,
    ]


class Services:
    """The stub of every ``tributary.v1`` service, on one channel."""

    def _bind_stubs(self, channel: Any) -> None:
        self.connections = connection_service_pb2_grpc.ConnectionServiceStub(channel)
        self.catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
        self.syncs = sync_service_pb2_grpc.SyncServiceStub(channel)
        self.runs = run_service_pb2_grpc.RunServiceStub(channel)
        self.executor = executor_service_pb2_grpc.ExecutorServiceStub(channel)
        self.workspaces = workspace_service_pb2_grpc.WorkspaceServiceStub(channel)


class Client(Services):
    """A Tributary server's services, as the generated stubs of ``tributary.v1``.

    Every call sends ``api_key`` as ``x-api-key``; unary calls without a
    ``timeout`` get ``default_timeout`` seconds (None: no deadline); reads
    (Get*, List*, VerifyConnection, ValidateFileSelection) are retried on
    UNAVAILABLE under ``retry``; failures raise :class:`TributaryError`.
    The channel is TLS: ``tls=None`` verifies the server with the system's
    roots (see :class:`TLS` for a private CA and mutual TLS), and
    ``plaintext=True`` turns TLS off. ``channel_options`` are passed on to grpc.

    Use it as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        address: str,
        api_key: str,
        *,
        plaintext: bool = False,
        tls: TLS | None = None,
        default_timeout: float | None = 30.0,
        retry: RetryPolicy = UNARY_RETRY,
        channel_options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        options = build_channel_options(plaintext, tls, retry, channel_options)
        if plaintext:
            self._channel = grpc.insecure_channel(address, options)
        else:
            tls = tls or TLS()
            self._channel = grpc.secure_channel(address, tls.credentials(), options)
        self.channel: grpc.Channel = grpc.intercept_channel(
            self._channel, Interceptor(api_key, default_timeout)
        )
        self._bind_stubs(self.channel)

    def watch_run(
        self,
        run_id: str,
        *,
        after_sequence: int = 0,
        follow_attempts: bool = False,
        heartbeats: bool = True,
        retry: RetryPolicy = WATCH_RETRY,
    ) -> RunWatch:
        """Iterates over a run's events until it ends, resuming dropped streams.

        Persisted events come exactly once, in order, starting after
        ``after_sequence``; see :class:`RunWatch`.
        """
        return RunWatch(
            self.runs,
            run_id,
            after_sequence=after_sequence,
            follow_attempts=follow_attempts,
            heartbeats=heartbeats,
            retry=retry,
        )

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
