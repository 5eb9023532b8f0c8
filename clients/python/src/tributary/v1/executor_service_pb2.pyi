import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tributary.v1 import connection_pb2 as _connection_pb2
from tributary.v1 import run_pb2 as _run_pb2
from tributary.v1 import sync_pb2 as _sync_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClaimRunRequest(_message.Message):
    __slots__ = ("executor_id", "sync_ids")
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    SYNC_IDS_FIELD_NUMBER: _ClassVar[int]
    executor_id: str
    sync_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, executor_id: _Optional[str] = ..., sync_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ClaimRunResponse(_message.Message):
    __slots__ = ("run", "sync", "connection", "credentials", "lease_expires_at", "cursors")
    class CredentialsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class CursorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUN_FIELD_NUMBER: _ClassVar[int]
    SYNC_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CURSORS_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    sync: _sync_pb2.Sync
    connection: _connection_pb2.Connection
    credentials: _containers.ScalarMap[str, str]
    lease_expires_at: _timestamp_pb2.Timestamp
    cursors: _containers.ScalarMap[str, str]
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ..., sync: _Optional[_Union[_sync_pb2.Sync, _Mapping]] = ..., connection: _Optional[_Union[_connection_pb2.Connection, _Mapping]] = ..., credentials: _Optional[_Mapping[str, str]] = ..., lease_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cursors: _Optional[_Mapping[str, str]] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("run_id", "executor_id", "records_read", "records_written", "bytes", "backend_run_ref", "backend_run_url", "backend_status")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_READ_FIELD_NUMBER: _ClassVar[int]
    RECORDS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    BACKEND_RUN_REF_FIELD_NUMBER: _ClassVar[int]
    BACKEND_RUN_URL_FIELD_NUMBER: _ClassVar[int]
    BACKEND_STATUS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    executor_id: str
    records_read: int
    records_written: int
    bytes: int
    backend_run_ref: str
    backend_run_url: str
    backend_status: _struct_pb2.Struct
    def __init__(self, run_id: _Optional[str] = ..., executor_id: _Optional[str] = ..., records_read: _Optional[int] = ..., records_written: _Optional[int] = ..., bytes: _Optional[int] = ..., backend_run_ref: _Optional[str] = ..., backend_run_url: _Optional[str] = ..., backend_status: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("lease_expires_at", "cancel_requested")
    LEASE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    lease_expires_at: _timestamp_pb2.Timestamp
    cancel_requested: bool
    def __init__(self, lease_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_requested: _Optional[bool] = ...) -> None: ...

class ReportProgressRequest(_message.Message):
    __slots__ = ("run_id", "executor_id", "progress", "cursor")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    executor_id: str
    progress: _run_pb2.Progress
    cursor: str
    def __init__(self, run_id: _Optional[str] = ..., executor_id: _Optional[str] = ..., progress: _Optional[_Union[_run_pb2.Progress, _Mapping]] = ..., cursor: _Optional[str] = ...) -> None: ...

class ReportProgressResponse(_message.Message):
    __slots__ = ("cancel_requested",)
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    cancel_requested: bool
    def __init__(self, cancel_requested: _Optional[bool] = ...) -> None: ...

class AppendLogsRequest(_message.Message):
    __slots__ = ("run_id", "executor_id", "lines")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    executor_id: str
    lines: _containers.RepeatedCompositeFieldContainer[_run_pb2.LogLine]
    def __init__(self, run_id: _Optional[str] = ..., executor_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_run_pb2.LogLine, _Mapping]]] = ...) -> None: ...

class AppendLogsResponse(_message.Message):
    __slots__ = ("last_sequence",)
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    last_sequence: int
    def __init__(self, last_sequence: _Optional[int] = ...) -> None: ...

class CompleteRunRequest(_message.Message):
    __slots__ = ("run_id", "executor_id", "status", "result_reason_code", "error", "summary")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESULT_REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    executor_id: str
    status: _run_pb2.RunStatus
    result_reason_code: _run_pb2.ResultReasonCode
    error: str
    summary: _run_pb2.RunSummary
    def __init__(self, run_id: _Optional[str] = ..., executor_id: _Optional[str] = ..., status: _Optional[_Union[_run_pb2.RunStatus, str]] = ..., result_reason_code: _Optional[_Union[_run_pb2.ResultReasonCode, str]] = ..., error: _Optional[str] = ..., summary: _Optional[_Union[_run_pb2.RunSummary, _Mapping]] = ...) -> None: ...
