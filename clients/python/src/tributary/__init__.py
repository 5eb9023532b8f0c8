"""Python client of Tributary, the gRPC control plane for data syncs.

:class:`Client` (and :class:`AsyncClient`) expose the generated stubs of
``tributary.v1`` with the API key, TLS, a default deadline, retries of
reads and :class:`TributaryError` added; ``watch_run`` follows a run's
events across dropped streams. Messages are in ``tributary.v1.*_pb2``.
"""

from tributary._aio import AsyncClient
from tributary._client import Client
from tributary._errors import TributaryError
from tributary._options import TLS, RetryPolicy
from tributary._retry import is_idempotent
from tributary._watch import AsyncRunWatch, RunWatch

__all__ = [
    "TLS",
    "AsyncClient",
    "AsyncRunWatch",
    "Client",
    "RetryPolicy",
    "RunWatch",
    "TributaryError",
    "is_idempotent",
]
