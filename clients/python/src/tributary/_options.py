"""Connection settings: TLS and the retry schedule."""

from __future__ import annotations

import dataclasses
import os
import random
import ssl
from pathlib import Path

import grpc


@dataclasses.dataclass(frozen=True)
class TLS:
    """How to secure the channel.

    ``TLS()`` verifies the server against the operating system's trust store
    (the CA file Python's ``ssl`` module uses), or against the public roots
    that grpcio ships when there is none. Give ``root_certificates`` (PEM) to
    trust a private CA instead, and ``certificate_chain`` with ``private_key``
    (PEM) to present a client certificate for mutual TLS. ``server_name``
    overrides the name expected in the server's certificate.
    """

    root_certificates: bytes | None = None
    certificate_chain: bytes | None = None
    private_key: bytes | None = None
    server_name: str | None = None

    def __post_init__(self) -> None:
        if (self.certificate_chain is None) != (self.private_key is None):
            raise ValueError("mutual TLS needs both certificate_chain and private_key")

    @classmethod
    def from_files(
        cls,
        ca: str | os.PathLike[str] | None = None,
        cert: str | os.PathLike[str] | None = None,
        key: str | os.PathLike[str] | None = None,
        server_name: str | None = None,
    ) -> TLS:
        """Reads PEM files: a CA bundle, and a client certificate and key for mutual TLS."""

        def read(path: str | os.PathLike[str] | None) -> bytes | None:
            return None if path is None else Path(path).read_bytes()

        return cls(read(ca), read(cert), read(key), server_name)

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates or _system_roots(),
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )

    def channel_options(self) -> list[tuple[str, str]]:
        return [] if self.server_name is None else [("grpc.ssl_target_name_override", self.server_name)]


def _system_roots() -> bytes | None:
    # grpcio would otherwise use its own bundled roots, which ignore the CAs
    # an organisation adds to the machine's store.
    paths = ssl.get_default_verify_paths()
    for path in (paths.cafile, paths.openssl_cafile):
        if path and os.path.isfile(path):
            return Path(path).read_bytes()
    return None


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, as gRPC's own retries use it.

    A unary call is attempted at most ``max_attempts`` times in all (gRPC
    allows 2 to 5; 1 turns retries off); a watch gives up after that many
    reconnects in a row that received nothing. The n-th retry waits a random
    time in ``[0, min(initial_backoff * backoff_multiplier**n, max_backoff)]``
    seconds.
    """

    max_attempts: int = 4
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    backoff_multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.initial_backoff <= self.max_backoff:
            raise ValueError("need 0 < initial_backoff <= max_backoff")
        if self.backoff_multiplier < 1:
            raise ValueError("backoff_multiplier must be at least 1")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        ceiling = min(self.initial_backoff * self.backoff_multiplier**retry, self.max_backoff)
        return random.uniform(0, ceiling)


UNARY_RETRY = RetryPolicy()
# A watch outlives a server restart or a load balancer's failover.
WATCH_RETRY = RetryPolicy(max_attempts=10)
