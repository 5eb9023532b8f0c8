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

class RateLimitUnit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RATE_LIMIT_UNIT_UNSPECIFIED: _ClassVar[RateLimitUnit]
    RATE_LIMIT_UNIT_SECOND: _ClassVar[RateLimitUnit]
    RATE_LIMIT_UNIT_MINUTE: _ClassVar[RateLimitUnit]
    RATE_LIMIT_UNIT_HOUR: _ClassVar[RateLimitUnit]

class ConnectionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_STATUS_UNSPECIFIED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_NEEDS_VERIFICATION: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_ACTIVE: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_ERROR: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_DISABLED: _ClassVar[ConnectionStatus]

class FileKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILE_KIND_UNSPECIFIED: _ClassVar[FileKind]
    FILE_KIND_FILE: _ClassVar[FileKind]
    FILE_KIND_FOLDER: _ClassVar[FileKind]
RATE_LIMIT_UNIT_UNSPECIFIED: RateLimitUnit
RATE_LIMIT_UNIT_SECOND: RateLimitUnit
RATE_LIMIT_UNIT_MINUTE: RateLimitUnit
RATE_LIMIT_UNIT_HOUR: RateLimitUnit
CONNECTION_STATUS_UNSPECIFIED: ConnectionStatus
CONNECTION_STATUS_NEEDS_VERIFICATION: ConnectionStatus
CONNECTION_STATUS_ACTIVE: ConnectionStatus
CONNECTION_STATUS_ERROR: ConnectionStatus
CONNECTION_STATUS_DISABLED: ConnectionStatus
FILE_KIND_UNSPECIFIED: FileKind
FILE_KIND_FILE: FileKind
FILE_KIND_FOLDER: FileKind

class Connection(_message.Message):
    __slots__ = ("id", "workspace_id", "name", "slug", "provider", "config", "has_credentials", "status", "verification_error", "is_default", "is_from_template", "created_at", "updated_at", "created_by", "updated_by", "last_used_at", "last_verified_at", "etag", "timezone", "date_format", "rate_limit_unit", "rate_limit_duration", "variables")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    HAS_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_ERROR_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    IS_FROM_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_VERIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    DATE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_UNIT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_DURATION_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    id: str
    workspace_id: str
    name: str
    slug: str
    provider: str
    config: _struct_pb2.Struct
    has_credentials: bool
    status: ConnectionStatus
    verification_error: str
    is_default: bool
    is_from_template: bool
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    created_by: str
    updated_by: str
    last_used_at: _timestamp_pb2.Timestamp
    last_verified_at: _timestamp_pb2.Timestamp
    etag: str
    timezone: str
    date_format: str
    rate_limit_unit: RateLimitUnit
    rate_limit_duration: int
    variables: _containers.RepeatedCompositeFieldContainer[ConnectionVariable]
    def __init__(self, id: _Optional[str] = ..., workspace_id: _Optional[str] = ..., name: _Optional[str] = ..., slug: _Optional[str] = ..., provider: _Optional[str] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., has_credentials: _Optional[bool] = ..., status: _Optional[_Union[ConnectionStatus, str]] = ..., verification_error: _Optional[str] = ..., is_default: _Optional[bool] = ..., is_from_template: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., updated_by: _Optional[str] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_verified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., timezone: _Optional[str] = ..., date_format: _Optional[str] = ..., rate_limit_unit: _Optional[_Union[RateLimitUnit, str]] = ..., rate_limit_duration: _Optional[int] = ..., variables: _Optional[_Iterable[_Union[ConnectionVariable, _Mapping]]] = ...) -> None: ...

class ConnectionVariable(_message.Message):
    __slots__ = ("key", "value", "label", "secret", "has_value", "locked", "configurable", "required", "advanced")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    HAS_VALUE_FIELD_NUMBER: _ClassVar[int]
    LOCKED_FIELD_NUMBER: _ClassVar[int]
    CONFIGURABLE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ADVANCED_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    label: str
    secret: bool
    has_value: bool
    locked: bool
    configurable: bool
    required: bool
    advanced: bool
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ..., label: _Optional[str] = ..., secret: _Optional[bool] = ..., has_value: _Optional[bool] = ..., locked: _Optional[bool] = ..., configurable: _Optional[bool] = ..., required: _Optional[bool] = ..., advanced: _Optional[bool] = ...) -> None: ...

class FileItem(_message.Message):
    __slots__ = ("id", "name", "kind", "mime_type", "size", "modified_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: FileKind
    mime_type: str
    size: int
    modified_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[FileKind, str]] = ..., mime_type: _Optional[str] = ..., size: _Optional[int] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SchemaTable(_message.Message):
    __slots__ = ("schema", "table", "spec")
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    schema: str
    table: str
    spec: str
    def __init__(self, schema: _Optional[str] = ..., table: _Optional[str] = ..., spec: _Optional[str] = ...) -> None: ...

class SchemaColumn(_message.Message):
    __slots__ = ("name", "data_type", "nullable")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_TYPE_FIELD_NUMBER: _ClassVar[int]
    NULLABLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    data_type: str
    nullable: bool
    def __init__(self, name: _Optional[str] = ..., data_type: _Optional[str] = ..., nullable: _Optional[bool] = ...) -> None: ...
