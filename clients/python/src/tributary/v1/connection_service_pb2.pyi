from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from tributary.v1 import connection_pb2 as _connection_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FileSelectionProblem(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILE_SELECTION_PROBLEM_UNSPECIFIED: _ClassVar[FileSelectionProblem]
    FILE_SELECTION_PROBLEM_NOT_FOUND: _ClassVar[FileSelectionProblem]
    FILE_SELECTION_PROBLEM_OUTSIDE_ROOT: _ClassVar[FileSelectionProblem]
    FILE_SELECTION_PROBLEM_ESCAPES_ROOT: _ClassVar[FileSelectionProblem]
    FILE_SELECTION_PROBLEM_INVALID_PATH: _ClassVar[FileSelectionProblem]
    FILE_SELECTION_PROBLEM_TOO_MANY_ITEMS: _ClassVar[FileSelectionProblem]
    FILE_SELECTION_PROBLEM_TOO_MANY_BYTES: _ClassVar[FileSelectionProblem]
    FILE_SELECTION_PROBLEM_TOO_DEEP: _ClassVar[FileSelectionProblem]
FILE_SELECTION_PROBLEM_UNSPECIFIED: FileSelectionProblem
FILE_SELECTION_PROBLEM_NOT_FOUND: FileSelectionProblem
FILE_SELECTION_PROBLEM_OUTSIDE_ROOT: FileSelectionProblem
FILE_SELECTION_PROBLEM_ESCAPES_ROOT: FileSelectionProblem
FILE_SELECTION_PROBLEM_INVALID_PATH: FileSelectionProblem
FILE_SELECTION_PROBLEM_TOO_MANY_ITEMS: FileSelectionProblem
FILE_SELECTION_PROBLEM_TOO_MANY_BYTES: FileSelectionProblem
FILE_SELECTION_PROBLEM_TOO_DEEP: FileSelectionProblem

class ListConnectionsRequest(_message.Message):
    __slots__ = ("q", "providers", "statuses", "sort_by", "order", "limit", "offset", "page_token")
    Q_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    SORT_BY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    q: str
    providers: _containers.RepeatedScalarFieldContainer[str]
    statuses: _containers.RepeatedScalarFieldContainer[_connection_pb2.ConnectionStatus]
    sort_by: str
    order: str
    limit: int
    offset: int
    page_token: str
    def __init__(self, q: _Optional[str] = ..., providers: _Optional[_Iterable[str]] = ..., statuses: _Optional[_Iterable[_Union[_connection_pb2.ConnectionStatus, str]]] = ..., sort_by: _Optional[str] = ..., order: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListConnectionsResponse(_message.Message):
    __slots__ = ("connections", "total", "limit", "offset", "has_next", "next_page_token", "users")
    class UsersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    HAS_NEXT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[_connection_pb2.Connection]
    total: int
    limit: int
    offset: int
    has_next: bool
    next_page_token: str
    users: _containers.ScalarMap[str, str]
    def __init__(self, connections: _Optional[_Iterable[_Union[_connection_pb2.Connection, _Mapping]]] = ..., total: _Optional[int] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., has_next: _Optional[bool] = ..., next_page_token: _Optional[str] = ..., users: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateConnectionRequest(_message.Message):
    __slots__ = ("name", "provider", "config", "credentials", "slug", "is_default", "request_id", "timezone", "date_format", "rate_limit_unit", "rate_limit_duration", "variables")
    class CredentialsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    DATE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_UNIT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_DURATION_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    name: str
    provider: str
    config: _struct_pb2.Struct
    credentials: _containers.ScalarMap[str, str]
    slug: str
    is_default: bool
    request_id: str
    timezone: str
    date_format: str
    rate_limit_unit: _connection_pb2.RateLimitUnit
    rate_limit_duration: int
    variables: _containers.RepeatedCompositeFieldContainer[_connection_pb2.ConnectionVariable]
    def __init__(self, name: _Optional[str] = ..., provider: _Optional[str] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., credentials: _Optional[_Mapping[str, str]] = ..., slug: _Optional[str] = ..., is_default: _Optional[bool] = ..., request_id: _Optional[str] = ..., timezone: _Optional[str] = ..., date_format: _Optional[str] = ..., rate_limit_unit: _Optional[_Union[_connection_pb2.RateLimitUnit, str]] = ..., rate_limit_duration: _Optional[int] = ..., variables: _Optional[_Iterable[_Union[_connection_pb2.ConnectionVariable, _Mapping]]] = ...) -> None: ...

class GetConnectionRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class GetConnectionBySlugRequest(_message.Message):
    __slots__ = ("slug",)
    SLUG_FIELD_NUMBER: _ClassVar[int]
    slug: str
    def __init__(self, slug: _Optional[str] = ...) -> None: ...

class UpdateConnectionRequest(_message.Message):
    __slots__ = ("connection_id", "name", "slug", "config", "credentials", "replace_credentials", "etag", "timezone", "date_format", "rate_limit_unit", "rate_limit_duration", "variables", "replace_variables")
    class CredentialsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    REPLACE_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    DATE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_UNIT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_DURATION_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    REPLACE_VARIABLES_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    name: str
    slug: str
    config: _struct_pb2.Struct
    credentials: _containers.ScalarMap[str, str]
    replace_credentials: bool
    etag: str
    timezone: str
    date_format: str
    rate_limit_unit: _connection_pb2.RateLimitUnit
    rate_limit_duration: int
    variables: _containers.RepeatedCompositeFieldContainer[_connection_pb2.ConnectionVariable]
    replace_variables: bool
    def __init__(self, connection_id: _Optional[str] = ..., name: _Optional[str] = ..., slug: _Optional[str] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., credentials: _Optional[_Mapping[str, str]] = ..., replace_credentials: _Optional[bool] = ..., etag: _Optional[str] = ..., timezone: _Optional[str] = ..., date_format: _Optional[str] = ..., rate_limit_unit: _Optional[_Union[_connection_pb2.RateLimitUnit, str]] = ..., rate_limit_duration: _Optional[int] = ..., variables: _Optional[_Iterable[_Union[_connection_pb2.ConnectionVariable, _Mapping]]] = ..., replace_variables: _Optional[bool] = ...) -> None: ...

class DeleteConnectionRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class DisableConnectionRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class ReactivateConnectionRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class SetDefaultConnectionRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class VerifyConnectionRequest(_message.Message):
    __slots__ = ("connection_id", "as_destination")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    AS_DESTINATION_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    as_destination: bool
    def __init__(self, connection_id: _Optional[str] = ..., as_destination: _Optional[bool] = ...) -> None: ...

class ListFilesRequest(_message.Message):
    __slots__ = ("connection_id", "path", "page_token", "page_size")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    path: str
    page_token: str
    page_size: int
    def __init__(self, connection_id: _Optional[str] = ..., path: _Optional[str] = ..., page_token: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListFilesResponse(_message.Message):
    __slots__ = ("items", "next_page_token", "path")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[_connection_pb2.FileItem]
    next_page_token: str
    path: str
    def __init__(self, items: _Optional[_Iterable[_Union[_connection_pb2.FileItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class ValidateFileSelectionRequest(_message.Message):
    __slots__ = ("connection_id", "root_path", "selected_items")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_PATH_FIELD_NUMBER: _ClassVar[int]
    SELECTED_ITEMS_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    root_path: str
    selected_items: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, connection_id: _Optional[str] = ..., root_path: _Optional[str] = ..., selected_items: _Optional[_Iterable[str]] = ...) -> None: ...

class ValidateFileSelectionResponse(_message.Message):
    __slots__ = ("valid", "total_items", "total_bytes", "max_depth", "violations", "details")
    VALID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ITEMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    total_items: int
    total_bytes: int
    max_depth: int
    violations: _containers.RepeatedScalarFieldContainer[str]
    details: _containers.RepeatedCompositeFieldContainer[FileSelectionViolation]
    def __init__(self, valid: _Optional[bool] = ..., total_items: _Optional[int] = ..., total_bytes: _Optional[int] = ..., max_depth: _Optional[int] = ..., violations: _Optional[_Iterable[str]] = ..., details: _Optional[_Iterable[_Union[FileSelectionViolation, _Mapping]]] = ...) -> None: ...

class FileSelectionViolation(_message.Message):
    __slots__ = ("item", "problem", "message")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    item: str
    problem: FileSelectionProblem
    message: str
    def __init__(self, item: _Optional[str] = ..., problem: _Optional[_Union[FileSelectionProblem, str]] = ..., message: _Optional[str] = ...) -> None: ...

class ListSchemaTablesRequest(_message.Message):
    __slots__ = ("connection_id", "include_system", "page_token")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SYSTEM_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    include_system: bool
    page_token: str
    def __init__(self, connection_id: _Optional[str] = ..., include_system: _Optional[bool] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSchemaTablesResponse(_message.Message):
    __slots__ = ("tables", "has_next", "next_page_token")
    TABLES_FIELD_NUMBER: _ClassVar[int]
    HAS_NEXT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tables: _containers.RepeatedCompositeFieldContainer[_connection_pb2.SchemaTable]
    has_next: bool
    next_page_token: str
    def __init__(self, tables: _Optional[_Iterable[_Union[_connection_pb2.SchemaTable, _Mapping]]] = ..., has_next: _Optional[bool] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListSchemaColumnsRequest(_message.Message):
    __slots__ = ("connection_id", "schema", "table")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    schema: str
    table: str
    def __init__(self, connection_id: _Optional[str] = ..., schema: _Optional[str] = ..., table: _Optional[str] = ...) -> None: ...

class ListSchemaColumnsResponse(_message.Message):
    __slots__ = ("columns", "schema", "table")
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedCompositeFieldContainer[_connection_pb2.SchemaColumn]
    schema: str
    table: str
    def __init__(self, columns: _Optional[_Iterable[_Union[_connection_pb2.SchemaColumn, _Mapping]]] = ..., schema: _Optional[str] = ..., table: _Optional[str] = ...) -> None: ...
