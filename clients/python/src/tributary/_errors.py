"""TributaryError: a failed call's gRPC status with its google.rpc details decoded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import grpc
from google.protobuf import any_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from google.rpc import error_details_pb2  # noqa: F401  (registers the detail types)
from google.rpc.error_details_pb2 import BadRequest, ErrorInfo, ResourceInfo
from grpc_status import rpc_status


class TributaryError(Exception):
    """A call failed.

    ``code`` and ``message`` are the gRPC status. ``details`` holds the
    google.rpc detail messages the server attached (google.rpc.BadRequest,
    ErrorInfo, ResourceInfo, …), unpacked to their generated types; the
    properties below pick out the ones Tributary sends. The grpc error it
    replaces is its ``__cause__``. (It is not a ``grpc.RpcError``, whose
    handlers call ``error.code()``; here ``code`` is a value.)
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        details: Iterable[Message] = (),
    ) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.details: tuple[Message, ...] = tuple(details)

    @property
    def field_violations(self) -> list[BadRequest.FieldViolation]:
        """Every bad field of an INVALID_ARGUMENT: ``.field`` (its proto path) and ``.description``."""
        return [v for d in self.details if isinstance(d, BadRequest) for v in d.field_violations]

    @property
    def error_info(self) -> ErrorInfo | None:
        """``.reason`` (UPPER_SNAKE), ``.domain`` ("tributary.dev") and ``.metadata``."""
        return next((d for d in self.details if isinstance(d, ErrorInfo)), None)

    @property
    def resource_info(self) -> ResourceInfo | None:
        """The resource of a NOT_FOUND or ALREADY_EXISTS."""
        return next((d for d in self.details if isinstance(d, ResourceInfo)), None)

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> TributaryError:
        """Decodes a failed call (sync or grpc.aio) and its grpc-status-details-bin."""
        if not isinstance(error, grpc.Call | grpc.aio.AioRpcError):
            return cls(grpc.StatusCode.UNKNOWN, str(error))
        code, text = error.code(), error.details() or ""
        try:
            status = rpc_status.from_call(cast(grpc.Call, error))  # AioRpcError has the same accessors
        except ValueError:  # details that contradict the status are ignored
            status = None
        details = [_unpack(d) for d in status.details] if status is not None else []
        return cls(code, text, details)


def _unpack(detail: any_pb2.Any) -> Message:
    """The detail as its own type when that type is known here, else the Any itself."""
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(detail.TypeName())
    except KeyError:
        return detail
    unpacked = message_factory.GetMessageClass(descriptor)()
    detail.Unpack(unpacked)
    return unpacked
