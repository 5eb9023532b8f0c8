from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from tributary.v1 import run_pb2 as _run_pb2
from tributary.v1 import sync_pb2 as _sync_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListSyncsRequest(_message.Message):
    __slots__ = ("q", "connection_ids", "statuses", "provider_keys", "sort_by", "order", "limit", "offset", "page_token")
    Q_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_KEYS_FIELD_NUMBER: _ClassVar[int]
    SORT_BY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    q: str
    connection_ids: _containers.RepeatedScalarFieldContainer[str]
    statuses: _containers.RepeatedScalarFieldContainer[_sync_pb2.SyncStatus]
    provider_keys: _containers.RepeatedScalarFieldContainer[str]
    sort_by: str
    order: str
    limit: int
    offset: int
    page_token: str
    def __init__(self, q: _Optional[str] = ..., connection_ids: _Optional[_Iterable[str]] = ..., statuses: _Optional[_Iterable[_Union[_sync_pb2.SyncStatus, str]]] = ..., provider_keys: _Optional[_Iterable[str]] = ..., sort_by: _Optional[str] = ..., order: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSyncsResponse(_message.Message):
    __slots__ = ("syncs", "total", "limit", "offset", "has_next", "next_page_token", "users")
    class UsersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SYNCS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    HAS_NEXT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    syncs: _containers.RepeatedCompositeFieldContainer[_sync_pb2.Sync]
    total: int
    limit: int
    offset: int
    has_next: bool
    next_page_token: str
    users: _containers.ScalarMap[str, str]
    def __init__(self, syncs: _Optional[_Iterable[_Union[_sync_pb2.Sync, _Mapping]]] = ..., total: _Optional[int] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., has_next: _Optional[bool] = ..., next_page_token: _Optional[str] = ..., users: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateSyncRequest(_message.Message):
    __slots__ = ("name", "slug", "connection_id", "entities", "source_config", "destination_config", "execution_backend", "execution_mode", "execution_config", "freshness_sla_seconds", "schedule", "status", "table_bindings", "trigger_mode", "task_slug", "request_id", "destination_connection_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
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
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    slug: str
    connection_id: str
    entities: _containers.RepeatedScalarFieldContainer[str]
    source_config: _struct_pb2.Struct
    destination_config: _struct_pb2.Struct
    execution_backend: _sync_pb2.ExecutionBackend
    execution_mode: _sync_pb2.ExecutionMode
    execution_config: _struct_pb2.Struct
    freshness_sla_seconds: int
    schedule: _sync_pb2.Schedule
    status: _sync_pb2.SyncStatus
    table_bindings: _containers.RepeatedCompositeFieldContainer[_sync_pb2.TableBinding]
    trigger_mode: _sync_pb2.TriggerMode
    task_slug: str
    request_id: str
    destination_connection_id: str
    def __init__(self, name: _Optional[str] = ..., slug: _Optional[str] = ..., connection_id: _Optional[str] = ..., entities: _Optional[_Iterable[str]] = ..., source_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., destination_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., execution_backend: _Optional[_Union[_sync_pb2.ExecutionBackend, str]] = ..., execution_mode: _Optional[_Union[_sync_pb2.ExecutionMode, str]] = ..., execution_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., freshness_sla_seconds: _Optional[int] = ..., schedule: _Optional[_Union[_sync_pb2.Schedule, _Mapping]] = ..., status: _Optional[_Union[_sync_pb2.SyncStatus, str]] = ..., table_bindings: _Optional[_Iterable[_Union[_sync_pb2.TableBinding, _Mapping]]] = ..., trigger_mode: _Optional[_Union[_sync_pb2.TriggerMode, str]] = ..., task_slug: _Optional[str] = ..., request_id: _Optional[str] = ..., destination_connection_id: _Optional[str] = ...) -> None: ...

class GetSyncRequest(_message.Message):
    __slots__ = ("sync_id",)
    SYNC_ID_FIELD_NUMBER: _ClassVar[int]
    sync_id: str
    def __init__(self, sync_id: _Optional[str] = ...) -> None: ...

class UpdateSyncRequest(_message.Message):
    __slots__ = ("sync_id", "name", "slug", "entities", "update_entities", "source_config", "destination_config", "execution_backend", "execution_mode", "execution_config", "freshness_sla_seconds", "schedule", "status", "table_bindings", "update_table_bindings", "trigger_mode", "task_slug", "etag", "clear_schedule", "clear_freshness_sla", "destination_connection_id")
    SYNC_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_ENTITIES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_CONFIG_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_BACKEND_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_MODE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_SLA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TABLE_BINDINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TABLE_BINDINGS_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_MODE_FIELD_NUMBER: _ClassVar[int]
    TASK_SLUG_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    CLEAR_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    CLEAR_FRESHNESS_SLA_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    sync_id: str
    name: str
    slug: str
    entities: _containers.RepeatedScalarFieldContainer[str]
    update_entities: bool
    source_config: _struct_pb2.Struct
    destination_config: _struct_pb2.Struct
    execution_backend: _sync_pb2.ExecutionBackend
    execution_mode: _sync_pb2.ExecutionMode
    execution_config: _struct_pb2.Struct
    freshness_sla_seconds: int
    schedule: _sync_pb2.Schedule
    status: _sync_pb2.SyncStatus
    table_bindings: _containers.RepeatedCompositeFieldContainer[_sync_pb2.TableBinding]
    update_table_bindings: bool
    trigger_mode: _sync_pb2.TriggerMode
    task_slug: str
    etag: str
    clear_schedule: bool
    clear_freshness_sla: bool
    destination_connection_id: str
    def __init__(self, sync_id: _Optional[str] = ..., name: _Optional[str] = ..., slug: _Optional[str] = ..., entities: _Optional[_Iterable[str]] = ..., update_entities: _Optional[bool] = ..., source_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., destination_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., execution_backend: _Optional[_Union[_sync_pb2.ExecutionBackend, str]] = ..., execution_mode: _Optional[_Union[_sync_pb2.ExecutionMode, str]] = ..., execution_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., freshness_sla_seconds: _Optional[int] = ..., schedule: _Optional[_Union[_sync_pb2.Schedule, _Mapping]] = ..., status: _Optional[_Union[_sync_pb2.SyncStatus, str]] = ..., table_bindings: _Optional[_Iterable[_Union[_sync_pb2.TableBinding, _Mapping]]] = ..., update_table_bindings: _Optional[bool] = ..., trigger_mode: _Optional[_Union[_sync_pb2.TriggerMode, str]] = ..., task_slug: _Optional[str] = ..., etag: _Optional[str] = ..., clear_schedule: _Optional[bool] = ..., clear_freshness_sla: _Optional[bool] = ..., destination_connection_id: _Optional[str] = ...) -> None: ...

class DeleteSyncRequest(_message.Message):
    __slots__ = ("sync_id",)
    SYNC_ID_FIELD_NUMBER: _ClassVar[int]
    sync_id: str
    def __init__(self, sync_id: _Optional[str] = ...) -> None: ...

class TriggerSyncRequest(_message.Message):
    __slots__ = ("sync_id", "run_mode", "request_id")
    SYNC_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_MODE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    sync_id: str
    run_mode: _run_pb2.RunMode
    request_id: str
    def __init__(self, sync_id: _Optional[str] = ..., run_mode: _Optional[_Union[_run_pb2.RunMode, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListSyncRunsRequest(_message.Message):
    __slots__ = ("sync_id", "limit", "offset", "page_token")
    SYNC_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sync_id: str
    limit: int
    offset: int
    page_token: str
    def __init__(self, sync_id: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSyncRunsResponse(_message.Message):
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

class ResetSyncStateRequest(_message.Message):
    __slots__ = ("sync_id", "entities")
    SYNC_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    sync_id: str
    entities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, sync_id: _Optional[str] = ..., entities: _Optional[_Iterable[str]] = ...) -> None: ...

class ResetSyncStateResponse(_message.Message):
    __slots__ = ("sync", "reset_entities")
    SYNC_FIELD_NUMBER: _ClassVar[int]
    RESET_ENTITIES_FIELD_NUMBER: _ClassVar[int]
    sync: _sync_pb2.Sync
    reset_entities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, sync: _Optional[_Union[_sync_pb2.Sync, _Mapping]] = ..., reset_entities: _Optional[_Iterable[str]] = ...) -> None: ...
