import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tributary.v1 import sync_pb2 as _sync_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATUS_UNSPECIFIED: _ClassVar[RunStatus]
    RUN_STATUS_PENDING: _ClassVar[RunStatus]
    RUN_STATUS_RUNNING: _ClassVar[RunStatus]
    RUN_STATUS_CANCELLING: _ClassVar[RunStatus]
    RUN_STATUS_SUCCEEDED: _ClassVar[RunStatus]
    RUN_STATUS_FAILED: _ClassVar[RunStatus]
    RUN_STATUS_CANCELLED: _ClassVar[RunStatus]

class RunMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_MODE_UNSPECIFIED: _ClassVar[RunMode]
    RUN_MODE_INCREMENTAL: _ClassVar[RunMode]
    RUN_MODE_FULL_REFRESH: _ClassVar[RunMode]

class TriggeredBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRIGGERED_BY_UNSPECIFIED: _ClassVar[TriggeredBy]
    TRIGGERED_BY_MANUAL: _ClassVar[TriggeredBy]
    TRIGGERED_BY_SCHEDULE: _ClassVar[TriggeredBy]
    TRIGGERED_BY_ON_CREATE: _ClassVar[TriggeredBy]
    TRIGGERED_BY_RETRY: _ClassVar[TriggeredBy]
    TRIGGERED_BY_AUTO_RESUME: _ClassVar[TriggeredBy]

class ResultClass(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESULT_CLASS_UNSPECIFIED: _ClassVar[ResultClass]
    RESULT_CLASS_SUCCESS: _ClassVar[ResultClass]
    RESULT_CLASS_FAILURE: _ClassVar[ResultClass]
    RESULT_CLASS_CANCELLED: _ClassVar[ResultClass]

class ResultReasonCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESULT_REASON_CODE_UNSPECIFIED: _ClassVar[ResultReasonCode]
    RESULT_REASON_CODE_HEARTBEAT_TIMEOUT: _ClassVar[ResultReasonCode]
    RESULT_REASON_CODE_USER_CANCELLED: _ClassVar[ResultReasonCode]
    RESULT_REASON_CODE_SOURCE_ERROR: _ClassVar[ResultReasonCode]
    RESULT_REASON_CODE_DESTINATION_ERROR: _ClassVar[ResultReasonCode]
    RESULT_REASON_CODE_CONFIG_ERROR: _ClassVar[ResultReasonCode]
    RESULT_REASON_CODE_AUTH_ERROR: _ClassVar[ResultReasonCode]
    RESULT_REASON_CODE_RATE_LIMITED: _ClassVar[ResultReasonCode]
    RESULT_REASON_CODE_INTERNAL_ERROR: _ClassVar[ResultReasonCode]
    RESULT_REASON_CODE_SERVER_SHUTDOWN: _ClassVar[ResultReasonCode]

class LogLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOG_LEVEL_UNSPECIFIED: _ClassVar[LogLevel]
    LOG_LEVEL_DEBUG: _ClassVar[LogLevel]
    LOG_LEVEL_INFO: _ClassVar[LogLevel]
    LOG_LEVEL_WARN: _ClassVar[LogLevel]
    LOG_LEVEL_ERROR: _ClassVar[LogLevel]
RUN_STATUS_UNSPECIFIED: RunStatus
RUN_STATUS_PENDING: RunStatus
RUN_STATUS_RUNNING: RunStatus
RUN_STATUS_CANCELLING: RunStatus
RUN_STATUS_SUCCEEDED: RunStatus
RUN_STATUS_FAILED: RunStatus
RUN_STATUS_CANCELLED: RunStatus
RUN_MODE_UNSPECIFIED: RunMode
RUN_MODE_INCREMENTAL: RunMode
RUN_MODE_FULL_REFRESH: RunMode
TRIGGERED_BY_UNSPECIFIED: TriggeredBy
TRIGGERED_BY_MANUAL: TriggeredBy
TRIGGERED_BY_SCHEDULE: TriggeredBy
TRIGGERED_BY_ON_CREATE: TriggeredBy
TRIGGERED_BY_RETRY: TriggeredBy
TRIGGERED_BY_AUTO_RESUME: TriggeredBy
RESULT_CLASS_UNSPECIFIED: ResultClass
RESULT_CLASS_SUCCESS: ResultClass
RESULT_CLASS_FAILURE: ResultClass
RESULT_CLASS_CANCELLED: ResultClass
RESULT_REASON_CODE_UNSPECIFIED: ResultReasonCode
RESULT_REASON_CODE_HEARTBEAT_TIMEOUT: ResultReasonCode
RESULT_REASON_CODE_USER_CANCELLED: ResultReasonCode
RESULT_REASON_CODE_SOURCE_ERROR: ResultReasonCode
RESULT_REASON_CODE_DESTINATION_ERROR: ResultReasonCode
RESULT_REASON_CODE_CONFIG_ERROR: ResultReasonCode
RESULT_REASON_CODE_AUTH_ERROR: ResultReasonCode
RESULT_REASON_CODE_RATE_LIMITED: ResultReasonCode
RESULT_REASON_CODE_INTERNAL_ERROR: ResultReasonCode
RESULT_REASON_CODE_SERVER_SHUTDOWN: ResultReasonCode
LOG_LEVEL_UNSPECIFIED: LogLevel
LOG_LEVEL_DEBUG: LogLevel
LOG_LEVEL_INFO: LogLevel
LOG_LEVEL_WARN: LogLevel
LOG_LEVEL_ERROR: LogLevel

class Run(_message.Message):
    __slots__ = ("id", "sync_id", "workspace_id", "status", "run_mode", "triggered_by", "trigger_ref", "attempt_number", "attempt_root_run_id", "previous_attempt_run_id", "next_attempt_run_id", "max_auto_resume_attempts", "execution_backend", "execution_mode", "executor_id", "backend_run_ref", "backend_run_url", "backend_status", "backend_heartbeat_at", "last_heartbeat_at", "cancel_requested_at", "cancel_requested_by", "cancel_reason", "result_class", "result_reason_code", "error", "summary", "created_at", "started_at", "completed_at", "updated_at", "last_event_sequence")
    ID_FIELD_NUMBER: _ClassVar[int]
    SYNC_ID_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RUN_MODE_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_BY_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_REF_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ROOT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ATTEMPT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_AUTO_RESUME_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_BACKEND_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_MODE_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    BACKEND_RUN_REF_FIELD_NUMBER: _ClassVar[int]
    BACKEND_RUN_URL_FIELD_NUMBER: _ClassVar[int]
    BACKEND_STATUS_FIELD_NUMBER: _ClassVar[int]
    BACKEND_HEARTBEAT_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_AT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    RESULT_CLASS_FIELD_NUMBER: _ClassVar[int]
    RESULT_REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    sync_id: str
    workspace_id: str
    status: RunStatus
    run_mode: RunMode
    triggered_by: TriggeredBy
    trigger_ref: str
    attempt_number: int
    attempt_root_run_id: str
    previous_attempt_run_id: str
    next_attempt_run_id: str
    max_auto_resume_attempts: int
    execution_backend: _sync_pb2.ExecutionBackend
    execution_mode: _sync_pb2.ExecutionMode
    executor_id: str
    backend_run_ref: str
    backend_run_url: str
    backend_status: _struct_pb2.Struct
    backend_heartbeat_at: _timestamp_pb2.Timestamp
    last_heartbeat_at: _timestamp_pb2.Timestamp
    cancel_requested_at: _timestamp_pb2.Timestamp
    cancel_requested_by: str
    cancel_reason: str
    result_class: ResultClass
    result_reason_code: ResultReasonCode
    error: str
    summary: RunSummary
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    last_event_sequence: int
    def __init__(self, id: _Optional[str] = ..., sync_id: _Optional[str] = ..., workspace_id: _Optional[str] = ..., status: _Optional[_Union[RunStatus, str]] = ..., run_mode: _Optional[_Union[RunMode, str]] = ..., triggered_by: _Optional[_Union[TriggeredBy, str]] = ..., trigger_ref: _Optional[str] = ..., attempt_number: _Optional[int] = ..., attempt_root_run_id: _Optional[str] = ..., previous_attempt_run_id: _Optional[str] = ..., next_attempt_run_id: _Optional[str] = ..., max_auto_resume_attempts: _Optional[int] = ..., execution_backend: _Optional[_Union[_sync_pb2.ExecutionBackend, str]] = ..., execution_mode: _Optional[_Union[_sync_pb2.ExecutionMode, str]] = ..., executor_id: _Optional[str] = ..., backend_run_ref: _Optional[str] = ..., backend_run_url: _Optional[str] = ..., backend_status: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., backend_heartbeat_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_heartbeat_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_requested_by: _Optional[str] = ..., cancel_reason: _Optional[str] = ..., result_class: _Optional[_Union[ResultClass, str]] = ..., result_reason_code: _Optional[_Union[ResultReasonCode, str]] = ..., error: _Optional[str] = ..., summary: _Optional[_Union[RunSummary, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_event_sequence: _Optional[int] = ...) -> None: ...

class RunSummary(_message.Message):
    __slots__ = ("entities", "records_read", "records_written", "bytes")
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    RECORDS_READ_FIELD_NUMBER: _ClassVar[int]
    RECORDS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    entities: _containers.RepeatedCompositeFieldContainer[EntitySummary]
    records_read: int
    records_written: int
    bytes: int
    def __init__(self, entities: _Optional[_Iterable[_Union[EntitySummary, _Mapping]]] = ..., records_read: _Optional[int] = ..., records_written: _Optional[int] = ..., bytes: _Optional[int] = ...) -> None: ...

class EntitySummary(_message.Message):
    __slots__ = ("entity_key", "records_read", "records_written", "bytes", "cursor_before", "cursor_after", "started_at", "completed_at", "destination_table")
    ENTITY_KEY_FIELD_NUMBER: _ClassVar[int]
    RECORDS_READ_FIELD_NUMBER: _ClassVar[int]
    RECORDS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    CURSOR_BEFORE_FIELD_NUMBER: _ClassVar[int]
    CURSOR_AFTER_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_TABLE_FIELD_NUMBER: _ClassVar[int]
    entity_key: str
    records_read: int
    records_written: int
    bytes: int
    cursor_before: str
    cursor_after: str
    started_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    destination_table: str
    def __init__(self, entity_key: _Optional[str] = ..., records_read: _Optional[int] = ..., records_written: _Optional[int] = ..., bytes: _Optional[int] = ..., cursor_before: _Optional[str] = ..., cursor_after: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., destination_table: _Optional[str] = ...) -> None: ...

class RunEvent(_message.Message):
    __slots__ = ("run_id", "sync_id", "sequence", "emitted_at", "snapshot", "status_changed", "heartbeat", "progress", "log", "freshness_changed")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SYNC_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    STATUS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    sync_id: str
    sequence: int
    emitted_at: _timestamp_pb2.Timestamp
    snapshot: Run
    status_changed: StatusChanged
    heartbeat: Heartbeat
    progress: Progress
    log: LogLine
    freshness_changed: FreshnessChanged
    def __init__(self, run_id: _Optional[str] = ..., sync_id: _Optional[str] = ..., sequence: _Optional[int] = ..., emitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., snapshot: _Optional[_Union[Run, _Mapping]] = ..., status_changed: _Optional[_Union[StatusChanged, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., log: _Optional[_Union[LogLine, _Mapping]] = ..., freshness_changed: _Optional[_Union[FreshnessChanged, _Mapping]] = ...) -> None: ...

class StatusChanged(_message.Message):
    __slots__ = ("to", "result_class", "result_reason_code", "error")
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    RESULT_CLASS_FIELD_NUMBER: _ClassVar[int]
    RESULT_REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    to: RunStatus
    result_class: ResultClass
    result_reason_code: ResultReasonCode
    error: str
    def __init__(self, to: _Optional[_Union[RunStatus, str]] = ..., result_class: _Optional[_Union[ResultClass, str]] = ..., result_reason_code: _Optional[_Union[ResultReasonCode, str]] = ..., error: _Optional[str] = ..., **kwargs) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("executor_id", "records_read", "records_written", "bytes")
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_READ_FIELD_NUMBER: _ClassVar[int]
    RECORDS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    executor_id: str
    records_read: int
    records_written: int
    bytes: int
    def __init__(self, executor_id: _Optional[str] = ..., records_read: _Optional[int] = ..., records_written: _Optional[int] = ..., bytes: _Optional[int] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("entity_key", "records_read", "records_written", "bytes")
    ENTITY_KEY_FIELD_NUMBER: _ClassVar[int]
    RECORDS_READ_FIELD_NUMBER: _ClassVar[int]
    RECORDS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    entity_key: str
    records_read: int
    records_written: int
    bytes: int
    def __init__(self, entity_key: _Optional[str] = ..., records_read: _Optional[int] = ..., records_written: _Optional[int] = ..., bytes: _Optional[int] = ...) -> None: ...

class FreshnessChanged(_message.Message):
    __slots__ = ("sync_id", "breached", "freshness_sla_seconds", "last_success_at", "breached_at", "sync_status")
    SYNC_ID_FIELD_NUMBER: _ClassVar[int]
    BREACHED_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_SLA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LAST_SUCCESS_AT_FIELD_NUMBER: _ClassVar[int]
    BREACHED_AT_FIELD_NUMBER: _ClassVar[int]
    SYNC_STATUS_FIELD_NUMBER: _ClassVar[int]
    sync_id: str
    breached: bool
    freshness_sla_seconds: int
    last_success_at: _timestamp_pb2.Timestamp
    breached_at: _timestamp_pb2.Timestamp
    sync_status: _sync_pb2.SyncStatus
    def __init__(self, sync_id: _Optional[str] = ..., breached: _Optional[bool] = ..., freshness_sla_seconds: _Optional[int] = ..., last_success_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., breached_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sync_status: _Optional[_Union[_sync_pb2.SyncStatus, str]] = ...) -> None: ...

class LogLine(_message.Message):
    __slots__ = ("level", "message", "entity_key")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_KEY_FIELD_NUMBER: _ClassVar[int]
    level: LogLevel
    message: str
    entity_key: str
    def __init__(self, level: _Optional[_Union[LogLevel, str]] = ..., message: _Optional[str] = ..., entity_key: _Optional[str] = ...) -> None: ...
