"""TLS options against an in-process server with certificates made by the
openssl command: a private CA, a server name override, mutual TLS."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

import tributary
from tributary.v1 import catalog_service_pb2, catalog_service_pb2_grpc

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

SERVER_NAME = "tributary.test"  # not resolvable: only server_name makes it match


NEW_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def new_ca(name: str, cwd: Path) -> None:
    ca = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign"]
    subject = ["-subj", f"/CN={name}", "-days", "1"]
    openssl(
        "req", "-x509", *NEW_EC_KEY, "-keyout", f"{name}.key", "-out", f"{name}.pem", *subject, *ca, cwd=cwd
    )


def issue(name: str, ca: str, extension: str, cwd: Path) -> None:
    openssl(
        "req", *NEW_EC_KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=cwd
    )
    (cwd / f"{name}.ext").write_text(extension + "\n")
    signer = ["-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial", "-days", "1"]
    openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        *signer,
        "-out",
        f"{name}.pem",
        "-extfile",
        f"{name}.ext",
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    new_ca("ca", d)
    new_ca("other-ca", d)
    issue("server", "ca", f"subjectAltName=DNS:{SERVER_NAME}", d)
    issue("client", "ca", "extendedKeyUsage=clientAuth", d)
    issue("stranger", "other-ca", "extendedKeyUsage=clientAuth", d)
    return d


class Catalog(catalog_service_pb2_grpc.CatalogServiceServicer):
    def __init__(self) -> None:
        self.peers: list[dict[str, Any]] = []

    def ListProviders(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.peers.append(context.auth_context())
        return catalog_service_pb2.ListProvidersResponse()


def tls_server(fake_server: Callable[..., int], pki: Path, require_client_cert: bool) -> tuple[int, Catalog]:
    catalog = Catalog()
    credentials = grpc.ssl_server_credentials(
        [((pki / "server.key").read_bytes(), (pki / "server.pem").read_bytes())],
        root_certificates=(pki / "ca.pem").read_bytes() if require_client_cert else None,
        require_client_auth=require_client_cert,
    )
    port = fake_server(
        lambda s: catalog_service_pb2_grpc.add_CatalogServiceServicer_to_server(catalog, s), credentials
    )
    return port, catalog


def list_providers(port: int, tls: tributary.TLS) -> None:
    no_retries = tributary.RetryPolicy(max_attempts=1)
    with tributary.Client(f"127.0.0.1:{port}", "k", tls=tls, retry=no_retries, default_timeout=5) as client:
        client.catalog.ListProviders(catalog_service_pb2.ListProvidersRequest())


def test_a_private_ca(fake_server: Callable[..., int], pki: Path) -> None:
    port, catalog = tls_server(fake_server, pki, require_client_cert=False)
    list_providers(port, tributary.TLS.from_files(ca=pki / "ca.pem", server_name=SERVER_NAME))
    assert len(catalog.peers) == 1
    # The system's roots do not know the private CA.
    with pytest.raises(tributary.TributaryError) as caught:
        list_providers(port, tributary.TLS(server_name=SERVER_NAME))
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls(fake_server: Callable[..., int], pki: Path) -> None:
    port, catalog = tls_server(fake_server, pki, require_client_cert=True)
    list_providers(
        port,
        tributary.TLS.from_files(
            ca=pki / "ca.pem", cert=pki / "client.pem", key=pki / "client.key", server_name=SERVER_NAME
        ),
    )
    assert catalog.peers[0]["x509_common_name"] == [b"client"]
    for cert in (None, "stranger"):  # no client certificate, or one from another CA
        tls = tributary.TLS.from_files(
            ca=pki / "ca.pem",
            cert=cert and pki / f"{cert}.pem",
            key=cert and pki / f"{cert}.key",
            server_name=SERVER_NAME,
        )
        with pytest.raises(tributary.TributaryError) as caught:
            list_providers(port, tls)
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert len(catalog.peers) == 1


def test_a_client_certificate_needs_its_key() -> None:
    with pytest.raises(ValueError):
        tributary.TLS(certificate_chain=b"cert")
    with pytest.raises(ValueError):
        tributary.Client("127.0.0.1:1", "k", plaintext=True, tls=tributary.TLS())
