from tributary.v1 import catalog_pb2 as _catalog_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListProvidersRequest(_message.Message):
    __slots__ = ("supports",)
    SUPPORTS_FIELD_NUMBER: _ClassVar[int]
    supports: _containers.RepeatedScalarFieldContainer[_catalog_pb2.ProviderFeature]
    def __init__(self, supports: _Optional[_Iterable[_Union[_catalog_pb2.ProviderFeature, str]]] = ...) -> None: ...

class ListProvidersResponse(_message.Message):
    __slots__ = ("providers",)
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.ProviderCatalog]
    def __init__(self, providers: _Optional[_Iterable[_Union[_catalog_pb2.ProviderCatalog, _Mapping]]] = ...) -> None: ...

class GetProviderCatalogRequest(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: str
    def __init__(self, provider: _Optional[str] = ...) -> None: ...
