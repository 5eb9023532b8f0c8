import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SyncStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYNC_STATUS_UNSPECIFIED: _ClassVar[SyncStatus]
    SYNC_STATUS_DRAFT: _ClassVar[SyncStatus]
    SYNC_STATUS_ACTIVE: _ClassVar[SyncStatus]
    SYNC_STATUS_PAUSED: _ClassVar[SyncStatus]
    SYNC_STATUS_ERROR: _ClassVar[SyncStatus]
    SYNC_STATUS_ARCHIVED: _ClassVar[SyncStatus]

class ExecutionBackend(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXECUTION_BACKEND_UNSPECIFIED: _ClassVar[ExecutionBackend]
    EXECUTION_BACKEND_NATIVE: _ClassVar[ExecutionBackend]
    EXECUTION_BACKEND_PREFECT: _ClassVar[ExecutionBackend]
    EXECUTION_BACKEND_TEMPORAL: _ClassVar[ExecutionBackend]
    EXECUTION_BACKEND_EXTERNAL: _ClassVar[ExecutionBackend]

class ExecutionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXECUTION_MODE_UNSPECIFIED: _ClassVar[ExecutionMode]
    EXECUTION_MODE_SEQUENTIAL: _ClassVar[ExecutionMode]
    EXECUTION_MODE_FAN_OUT_ENTITY: _ClassVar[ExecutionMode]
    EXECUTION_MODE_FAN_OUT_WINDOW: _ClassVar[ExecutionMode]

class TriggerMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRIGGER_MODE_UNSPECIFIED: _ClassVar[TriggerMode]
    TRIGGER_MODE_MANUAL: _ClassVar[TriggerMode]
    TRIGGER_MODE_SCHEDULED: _ClassVar[TriggerMode]
    TRIGGER_MODE_ON_CREATE: _ClassVar[TriggerMode]

class TimeUnit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_UNIT_UNSPECIFIED: _ClassVar[TimeUnit]
    TIME_UNIT_MINUTES: _ClassVar[TimeUnit]
    TIME_UNIT_HOURS: _ClassVar[TimeUnit]
    TIME_UNIT_DAYS: _ClassVar[TimeUnit]
    TIME_UNIT_WEEKS: _ClassVar[TimeUnit]
    TIME_UNIT_MONTHS: _ClassVar[TimeUnit]

class LoadMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOAD_MODE_UNSPECIFIED: _ClassVar[LoadMode]
    LOAD_MODE_APPEND_EVENT: _ClassVar[LoadMode]
    LOAD_MODE_UPSERT: _ClassVar[LoadMode]
    LOAD_MODE_REPLACE: _ClassVar[LoadMode]

class TableNamingVersion(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TABLE_NAMING_VERSION_UNSPECIFIED: _ClassVar[TableNamingVersion]
    TABLE_NAMING_VERSION_LEGACY: _ClassVar[TableNamingVersion]
    TABLE_NAMING_VERSION_V2: _ClassVar[TableNamingVersion]
SYNC_STATUS_UNSPECIFIED: SyncStatus
SYNC_STATUS_DRAFT: SyncStatus
SYNC_STATUS_ACTIVE: SyncStatus
SYNC_STATUS_PAUSED: SyncStatus
SYNC_STATUS_ERROR: SyncStatus
SYNC_STATUS_ARCHIVED: SyncStatus
EXECUTION_BACKEND_UNSPECIFIED: ExecutionBackend
EXECUTION_BACKEND_NATIVE: ExecutionBackend
EXECUTION_BACKEND_PREFECT: ExecutionBackend
EXECUTION_BACKEND_TEMPORAL: ExecutionBackend
EXECUTION_BACKEND_EXTERNAL: ExecutionBackend
EXECUTION_MODE_UNSPECIFIED: ExecutionMode
EXECUTION_MODE_SEQUENTIAL: ExecutionMode
EXECUTION_MODE_FAN_OUT_ENTITY: ExecutionMode
EXECUTION_MODE_FAN_OUT_WINDOW: ExecutionMode
TRIGGER_MODE_UNSPECIFIED: TriggerMode
TRIGGER_MODE_MANUAL: TriggerMode
TRIGGER_MODE_SCHEDULED: TriggerMode
TRIGGER_MODE_ON_CREATE: TriggerMode
TIME_UNIT_UNSPECIFIED: TimeUnit
TIME_UNIT_MINUTES: TimeUnit
TIME_UNIT_HOURS: TimeUnit
TIME_UNIT_DAYS: TimeUnit
TIME_UNIT_WEEKS: TimeUnit
TIME_UNIT_MONTHS: TimeUnit
LOAD_MODE_UNSPECIFIED: LoadMode
LOAD_MODE_APPEND_EVENT: LoadMode
LOAD_MODE_UPSERT: LoadMode
LOAD_MODE_REPLACE: LoadMode
TABLE_NAMING_VERSION_UNSPECIFIED: TableNamingVersion
TABLE_NAMING_VERSION_LEGACY: TableNamingVersion
TABLE_NAMING_VERSION_V2: TableNamingVersion

class Sync(_message.Message):
    __slots__ = ("id", "workspace_id", "name", "slug", "connection_id", "provider_key", "entities", "source_config", "destination_config", "execution_backend", "execution_mode", "execution_config", "freshness_sla_seconds", "schedule", "status", "table_bindings", "trigger_mode", "task_slug", "last_error", "last_success_at", "created_at", "updated_at", "created_by", "updated_by", "etag", "freshness_breached", "next_run_at", "freshness_breached_at", "destination_connection_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_KEY_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_CONFIG_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_BACKEND_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_MODE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_SLA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TABLE_BINDINGS_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_MODE_FIELD_NUMBER: _ClassVar[int]
    TASK_SLUG_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_SUCCESS_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_BREACHED_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUN_AT_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_BREACHED_AT_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    workspace_id: str
    name: str
    slug: str
    connection_id: str
    provider_key: str
    entities: _containers.RepeatedScalarFieldContainer[str]
    source_config: _struct_pb2.Struct
    destination_config: _struct_pb2.Struct
    execution_backend: ExecutionBackend
    execution_mode: ExecutionMode
    execution_config: _struct_pb2.Struct
    freshness_sla_seconds: int
    schedule: Schedule
    status: SyncStatus
    table_bindings: _containers.RepeatedCompositeFieldContainer[TableBinding]
    trigger_mode: TriggerMode
    task_slug: str
    last_error: str
    last_success_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    created_by: str
    updated_by: str
    etag: str
    freshness_breached: bool
    next_run_at: _timestamp_pb2.Timestamp
    freshness_breached_at: _timestamp_pb2.Timestamp
    destination_connection_id: str
    def __init__(self, id: _Optional[str] = ..., workspace_id: _Optional[str] = ..., name: _Optional[str] = ..., slug: _Optional[str] = ..., connection_id: _Optional[str] = ..., provider_key: _Optional[str] = ..., entities: _Optional[_Iterable[str]] = ..., source_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., destination_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., execution_backend: _Optional[_Union[ExecutionBackend, str]] = ..., execution_mode: _Optional[_Union[ExecutionMode, str]] = ..., execution_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., freshness_sla_seconds: _Optional[int] = ..., schedule: _Optional[_Union[Schedule, _Mapping]] = ..., status: _Optional[_Union[SyncStatus, str]] = ..., table_bindings: _Optional[_Iterable[_Union[TableBinding, _Mapping]]] = ..., trigger_mode: _Optional[_Union[TriggerMode, str]] = ..., task_slug: _Optional[str] = ..., last_error: _Optional[str] = ..., last_success_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., updated_by: _Optional[str] = ..., etag: _Optional[str] = ..., freshness_breached: _Optional[bool] = ..., next_run_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., freshness_breached_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., destination_connection_id: _Optional[str] = ...) -> None: ...

class Schedule(_message.Message):
    __slots__ = ("cron", "every", "timezone")
    CRON_FIELD_NUMBER: _ClassVar[int]
    EVERY_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    cron: str
    every: Interval
    timezone: str
    def __init__(self, cron: _Optional[str] = ..., every: _Optional[_Union[Interval, _Mapping]] = ..., timezone: _Optional[str] = ...) -> None: ...

class Interval(_message.Message):
    __slots__ = ("units", "time_unit")
    UNITS_FIELD_NUMBER: _ClassVar[int]
    TIME_UNIT_FIELD_NUMBER: _ClassVar[int]
    units: int
    time_unit: TimeUnit
    def __init__(self, units: _Optional[int] = ..., time_unit: _Optional[_Union[TimeUnit, str]] = ...) -> None: ...

class TableBinding(_message.Message):
    __slots__ = ("id", "entity_key", "source_instance_key", "logical_table_name", "physical_table_name", "table_name", "primary_key_columns", "cursor_field", "load_mode", "table_naming_version", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_KEY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_INSTANCE_KEY_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_TABLE_NAME_FIELD_NUMBER: _ClassVar[int]
    PHYSICAL_TABLE_NAME_FIELD_NUMBER: _ClassVar[int]
    TABLE_NAME_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_KEY_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_FIELD_NUMBER: _ClassVar[int]
    LOAD_MODE_FIELD_NUMBER: _ClassVar[int]
    TABLE_NAMING_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    entity_key: str
    source_instance_key: str
    logical_table_name: str
    physical_table_name: str
    table_name: str
    primary_key_columns: _containers.RepeatedScalarFieldContainer[str]
    cursor_field: str
    load_mode: LoadMode
    table_naming_version: TableNamingVersion
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., entity_key: _Optional[str] = ..., source_instance_key: _Optional[str] = ..., logical_table_name: _Optional[str] = ..., physical_table_name: _Optional[str] = ..., table_name: _Optional[str] = ..., primary_key_columns: _Optional[_Iterable[str]] = ..., cursor_field: _Optional[str] = ..., load_mode: _Optional[_Union[LoadMode, str]] = ..., table_naming_version: _Optional[_Union[TableNamingVersion, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
