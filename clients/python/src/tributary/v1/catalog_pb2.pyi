from google.protobuf import struct_pb2 as _struct_pb2
from tributary.v1 import sync_pb2 as _sync_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProviderFeature(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVIDER_FEATURE_UNSPECIFIED: _ClassVar[ProviderFeature]
    PROVIDER_FEATURE_VERIFY: _ClassVar[ProviderFeature]
    PROVIDER_FEATURE_BROWSE_SCHEMA: _ClassVar[ProviderFeature]
    PROVIDER_FEATURE_LIST_FILES: _ClassVar[ProviderFeature]
    PROVIDER_FEATURE_READ: _ClassVar[ProviderFeature]
    PROVIDER_FEATURE_DESTINATION: _ClassVar[ProviderFeature]
    PROVIDER_FEATURE_OAUTH: _ClassVar[ProviderFeature]

class SizeClass(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIZE_CLASS_UNSPECIFIED: _ClassVar[SizeClass]
    SIZE_CLASS_XS: _ClassVar[SizeClass]
    SIZE_CLASS_S: _ClassVar[SizeClass]
    SIZE_CLASS_M: _ClassVar[SizeClass]
    SIZE_CLASS_L: _ClassVar[SizeClass]
    SIZE_CLASS_XL: _ClassVar[SizeClass]
PROVIDER_FEATURE_UNSPECIFIED: ProviderFeature
PROVIDER_FEATURE_VERIFY: ProviderFeature
PROVIDER_FEATURE_BROWSE_SCHEMA: ProviderFeature
PROVIDER_FEATURE_LIST_FILES: ProviderFeature
PROVIDER_FEATURE_READ: ProviderFeature
PROVIDER_FEATURE_DESTINATION: ProviderFeature
PROVIDER_FEATURE_OAUTH: ProviderFeature
SIZE_CLASS_UNSPECIFIED: SizeClass
SIZE_CLASS_XS: SizeClass
SIZE_CLASS_S: SizeClass
SIZE_CLASS_M: SizeClass
SIZE_CLASS_L: SizeClass
SIZE_CLASS_XL: SizeClass

class ProviderCatalog(_message.Message):
    __slots__ = ("provider", "name", "display_name", "config_schema", "credentials_schema", "defaults", "resources", "available_resources", "default_resources", "dynamic_resources", "capabilities", "category", "documentation_url", "supported")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    DEFAULTS_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    DYNAMIC_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTATION_URL_FIELD_NUMBER: _ClassVar[int]
    SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    provider: str
    name: str
    display_name: str
    config_schema: _struct_pb2.Struct
    credentials_schema: _struct_pb2.Struct
    defaults: _struct_pb2.Struct
    resources: _containers.RepeatedCompositeFieldContainer[ResourceSpec]
    available_resources: _containers.RepeatedScalarFieldContainer[str]
    default_resources: _containers.RepeatedScalarFieldContainer[str]
    dynamic_resources: bool
    capabilities: ProviderCapabilities
    category: str
    documentation_url: str
    supported: ProviderSupport
    def __init__(self, provider: _Optional[str] = ..., name: _Optional[str] = ..., display_name: _Optional[str] = ..., config_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., credentials_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., defaults: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., resources: _Optional[_Iterable[_Union[ResourceSpec, _Mapping]]] = ..., available_resources: _Optional[_Iterable[str]] = ..., default_resources: _Optional[_Iterable[str]] = ..., dynamic_resources: _Optional[bool] = ..., capabilities: _Optional[_Union[ProviderCapabilities, _Mapping]] = ..., category: _Optional[str] = ..., documentation_url: _Optional[str] = ..., supported: _Optional[_Union[ProviderSupport, _Mapping]] = ...) -> None: ...

class ProviderSupport(_message.Message):
    __slots__ = ("verify", "browse_schema", "list_files", "read", "destination", "oauth")
    VERIFY_FIELD_NUMBER: _ClassVar[int]
    BROWSE_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    LIST_FILES_FIELD_NUMBER: _ClassVar[int]
    READ_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    OAUTH_FIELD_NUMBER: _ClassVar[int]
    verify: bool
    browse_schema: bool
    list_files: bool
    read: bool
    destination: bool
    oauth: bool
    def __init__(self, verify: _Optional[bool] = ..., browse_schema: _Optional[bool] = ..., list_files: _Optional[bool] = ..., read: _Optional[bool] = ..., destination: _Optional[bool] = ..., oauth: _Optional[bool] = ...) -> None: ...

class ResourceSpec(_message.Message):
    __slots__ = ("entity_key", "display_name", "description", "cursor_field", "default_selected", "depends_on", "load_mode", "size_class", "slicing", "storage_kind", "storage_description", "config_schema", "primary_key")
    ENTITY_KEY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_SELECTED_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    LOAD_MODE_FIELD_NUMBER: _ClassVar[int]
    SIZE_CLASS_FIELD_NUMBER: _ClassVar[int]
    SLICING_FIELD_NUMBER: _ClassVar[int]
    STORAGE_KIND_FIELD_NUMBER: _ClassVar[int]
    STORAGE_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_KEY_FIELD_NUMBER: _ClassVar[int]
    entity_key: str
    display_name: str
    description: str
    cursor_field: str
    default_selected: bool
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    load_mode: _sync_pb2.LoadMode
    size_class: SizeClass
    slicing: _struct_pb2.Struct
    storage_kind: str
    storage_description: str
    config_schema: _struct_pb2.Struct
    primary_key: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, entity_key: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., cursor_field: _Optional[str] = ..., default_selected: _Optional[bool] = ..., depends_on: _Optional[_Iterable[str]] = ..., load_mode: _Optional[_Union[_sync_pb2.LoadMode, str]] = ..., size_class: _Optional[_Union[SizeClass, str]] = ..., slicing: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., storage_kind: _Optional[str] = ..., storage_description: _Optional[str] = ..., config_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., primary_key: _Optional[_Iterable[str]] = ...) -> None: ...

class ProviderCapabilities(_message.Message):
    __slots__ = ("files", "schema", "oauth", "incremental")
    FILES_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    OAUTH_FIELD_NUMBER: _ClassVar[int]
    INCREMENTAL_FIELD_NUMBER: _ClassVar[int]
    files: bool
    schema: bool
    oauth: bool
    incremental: bool
    def __init__(self, files: _Optional[bool] = ..., schema: _Optional[bool] = ..., oauth: _Optional[bool] = ..., incremental: _Optional[bool] = ...) -> None: ...
