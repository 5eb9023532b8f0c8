import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tributary.v1 import run_pb2 as _run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("sync_id", "statuses", "triggered_by", "attempt_root_run_id", "limit", "offset", "page_token")
    SYNC_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_BY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ROOT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sync_id: str
    statuses: _containers.RepeatedScalarFieldContainer[_run_pb2.RunStatus]
    triggered_by: _containers.RepeatedScalarFieldContainer[_run_pb2.TriggeredBy]
    attempt_root_run_id: str
    limit: int
    offset: int
    page_token: str
    def __init__(self, sync_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_run_pb2.RunStatus, str]]] = ..., triggered_by: _Optional[_Iterable[_Union[_run_pb2.TriggeredBy, str]]] = ..., attempt_root_run_id: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs", "total", "limit", "offset", "has_next", "next_page_token", "users")
    class UsersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUNS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    HAS_NEXT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_run_pb2.Run]
    total: int
    limit: int
    offset: int
    has_next: bool
    next_page_token: str
    users: _containers.ScalarMap[str, str]
    def __init__(self, runs: _Optional[_Iterable[_Union[_run_pb2.Run, _Mapping]]] = ..., total: _Optional[int] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., has_next: _Optional[bool] = ..., next_page_token: _Optional[str] = ..., users: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CancelRunRequest(_message.Message):
    __slots__ = ("run_id", "reason")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    reason: str
    def __init__(self, run_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RetryRunRequest(_message.Message):
    __slots__ = ("run_id", "run_mode", "request_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_MODE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    run_mode: _run_pb2.RunMode
    request_id: str
    def __init__(self, run_id: _Optional[str] = ..., run_mode: _Optional[_Union[_run_pb2.RunMode, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListRunLogsRequest(_message.Message):
    __slots__ = ("run_id", "after_sequence", "min_level", "limit", "page_token")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    MIN_LEVEL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    after_sequence: int
    min_level: _run_pb2.LogLevel
    limit: int
    page_token: str
    def __init__(self, run_id: _Optional[str] = ..., after_sequence: _Optional[int] = ..., min_level: _Optional[_Union[_run_pb2.LogLevel, str]] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRunLogsResponse(_message.Message):
    __slots__ = ("entries", "has_next", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    HAS_NEXT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[RunLogEntry]
    has_next: bool
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[RunLogEntry, _Mapping]]] = ..., has_next: _Optional[bool] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RunLogEntry(_message.Message):
    __slots__ = ("sequence", "emitted_at", "line")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    emitted_at: _timestamp_pb2.Timestamp
    line: _run_pb2.LogLine
    def __init__(self, sequence: _Optional[int] = ..., emitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., line: _Optional[_Union[_run_pb2.LogLine, _Mapping]] = ...) -> None: ...

class WatchRunRequest(_message.Message):
    __slots__ = ("run_id", "after_sequence", "follow_attempts")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    after_sequence: int
    follow_attempts: bool
    def __init__(self, run_id: _Optional[str] = ..., after_sequence: _Optional[int] = ..., follow_attempts: _Optional[bool] = ...) -> None: ...

class WatchRunsRequest(_message.Message):
    __slots__ = ("sync_id", "connection_id", "statuses")
    SYNC_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    sync_id: str
    connection_id: str
    statuses: _containers.RepeatedScalarFieldContainer[_run_pb2.RunStatus]
    def __init__(self, sync_id: _Optional[str] = ..., connection_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_run_pb2.RunStatus, str]]] = ...) -> None: ...
