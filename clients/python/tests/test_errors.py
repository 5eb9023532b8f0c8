"""TributaryError: codes and decoded google.rpc details from the live server."""

from __future__ import annotations

import asyncio

import grpc
import pytest

import tributary
from tributary.v1 import catalog_service_pb2
from tributary.v1 import connection_service_pb2 as cs


def test_bad_request_names_the_field(client: tributary.Client) -> None:
    with pytest.raises(tributary.TributaryError) as caught:
        client.connections.CreateConnection(cs.CreateConnectionRequest(name="", provider="faker"))
    e = caught.value
    assert isinstance(e.__cause__, grpc.RpcError)
    assert e.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "name" in e.message
    assert [v.field for v in e.field_violations] == ["name"]
    assert e.field_violations[0].description
    assert e.error_info is not None
    assert (e.error_info.reason, e.error_info.domain) == ("INVALID_ARGUMENT", "tributary.dev")


def test_bad_api_key_is_unauthenticated(server: tuple[str, str]) -> None:
    with (
        tributary.Client(server[0], "trb_not-a-key", plaintext=True) as client,
        pytest.raises(tributary.TributaryError) as caught,
    ):
        client.catalog.ListProviders(catalog_service_pb2.ListProvidersRequest())
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.error_info is not None
    assert caught.value.error_info.reason == "UNAUTHENTICATED"


def test_async_client_decodes_the_same_details(server: tuple[str, str]) -> None:
    async def create_nameless() -> tributary.TributaryError:
        async with tributary.AsyncClient(server[0], server[1], plaintext=True) as client:
            providers = await client.catalog.ListProviders(catalog_service_pb2.ListProvidersRequest())
            assert any(p.provider == "faker" for p in providers.providers)
            try:
                await client.connections.CreateConnection(
                    cs.CreateConnectionRequest(name="", provider="faker")
                )
            except tributary.TributaryError as e:
                return e
            raise AssertionError("CreateConnection with an empty name succeeded")

    e = asyncio.run(create_nameless())
    assert e.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in e.field_violations] == ["name"]
    assert e.error_info is not None and e.error_info.domain == "tributary.dev"
