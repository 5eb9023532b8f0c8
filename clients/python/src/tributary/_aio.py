"""AsyncClient: Client for asyncio, over grpc.aio."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc.aio

from tributary._client import Services, build_channel_options
from tributary._interceptors import AioStreamInterceptor, AioUnaryInterceptor
from tributary._options import TLS, UNARY_RETRY, WATCH_RETRY, RetryPolicy
from tributary._watch import AsyncRunWatch


class AsyncClient(Services):
    """:class:`Client` with awaitable calls: ``await client.runs.GetRun(...)``.

    Same arguments and behaviour. Create it inside a running event loop and
    use it as an async context manager, or ``await close()``.
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
        interceptors: list[grpc.aio.ClientInterceptor] = [
            AioUnaryInterceptor(api_key, default_timeout),
            AioStreamInterceptor(api_key, default_timeout),
        ]
        if plaintext:
            self.channel = grpc.aio.insecure_channel(address, options, interceptors=interceptors)
        else:
            tls = tls or TLS()
            self.channel = grpc.aio.secure_channel(
                address, tls.credentials(), options, interceptors=interceptors
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
    ) -> AsyncRunWatch:
        """``async for event in client.watch_run(run_id)``; see :meth:`Client.watch_run`."""
        return AsyncRunWatch(
            self.runs,
            run_id,
            after_sequence=after_sequence,
            follow_attempts=follow_attempts,
            heartbeats=heartbeats,
            retry=retry,
        )

    async def close(self) -> None:
        await self.channel.close(grace=None)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
