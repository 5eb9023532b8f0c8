"""What the client adds to every call: the API key, a default deadline on
unary calls, and TributaryError in place of grpc.RpcError."""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import grpc.aio

from tributary._errors import TributaryError


class _CallDetails(
    collections.namedtuple(
        "_CallDetails",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    pass


class _Settings:
    def __init__(self, api_key: str, default_timeout: float | None) -> None:
        self.api_key = api_key
        self.default_timeout = default_timeout

    def timeout(self, details: Any, unary: bool) -> float | None:
        # Streams are long-lived on purpose (a watch lasts a run), so they get no default.
        if details.timeout is None and unary:
            return self.default_timeout
        return details.timeout


# === sync ===


class Interceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def __init__(self, api_key: str, default_timeout: float | None) -> None:
        self._settings = _Settings(api_key, default_timeout)

    def _details(self, details: grpc.ClientCallDetails, unary: bool) -> _CallDetails:
        return _CallDetails(
            details.method,
            self._settings.timeout(details, unary),
            [*(details.metadata or ()), ("x-api-key", self._settings.api_key)],
            details.credentials,
            details.wait_for_ready,
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        outcome = continuation(self._details(details, unary=True), request)
        error = outcome.exception()
        if isinstance(error, grpc.RpcError):
            raise TributaryError.from_rpc_error(error) from error
        if error is not None:  # not the server's answer: e.g. a request that does not serialize
            raise error
        return outcome

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return _Stream(continuation(self._details(details, unary=False), request))


class _Stream:
    """A server stream's call whose iteration raises TributaryError."""

    def __init__(self, call: Any) -> None:
        self._call = call

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._call)
        except grpc.RpcError as error:
            raise TributaryError.from_rpc_error(error) from error

    def __getattr__(self, name: str) -> Any:  # cancel(), code(), trailing_metadata() …
        return getattr(self._call, name)


# === grpc.aio (its channel wants one interceptor object per call shape) ===


def _aio_details(settings: _Settings, details: Any, unary: bool) -> grpc.aio.ClientCallDetails:
    metadata = grpc.aio.Metadata(*(details.metadata or ()), ("x-api-key", settings.api_key))
    return details._replace(timeout=settings.timeout(details, unary), metadata=metadata)


class AioUnaryInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, api_key: str, default_timeout: float | None) -> None:
        self._settings = _Settings(api_key, default_timeout)

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        call = await continuation(_aio_details(self._settings, details, unary=True), request)
        try:
            return await call
        except grpc.aio.AioRpcError as error:
            raise TributaryError.from_rpc_error(error) from error


class AioStreamInterceptor(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, api_key: str, default_timeout: float | None) -> None:
        self._settings = _Settings(api_key, default_timeout)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        call = await continuation(_aio_details(self._settings, details, unary=False), request)

        async def responses() -> AsyncIterator[Any]:
            try:
                async for response in call:
                    yield response
            except grpc.aio.AioRpcError as error:
                raise TributaryError.from_rpc_error(error) from error

        return responses()
