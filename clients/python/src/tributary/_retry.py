"""Which calls may be retried, and the gRPC service config that retries them.

Retries run inside gRPC itself (its retry policy: per-attempt backoff with
jitter, bounded attempts, all within the call's deadline), configured per
method. Only calls that change nothing are listed, so a call that may have
reached the server is never repeated if repeating it could act twice.
"""

from __future__ import annotations

import json

from tributary._options import RetryPolicy
from tributary.v1 import (
    catalog_service_pb2,
    connection_service_pb2,
    executor_service_pb2,
    run_service_pb2,
    sync_service_pb2,
    workspace_service_pb2,
)

SERVICES = [
    module.DESCRIPTOR.services_by_name[name]
    for module, name in [
        (connection_service_pb2, "ConnectionService"),
        (catalog_service_pb2, "CatalogService"),
        (sync_service_pb2, "SyncService"),
        (run_service_pb2, "RunService"),
        (executor_service_pb2, "ExecutorService"),
        (workspace_service_pb2, "WorkspaceService"),
    ]
]

# Reads, and VerifyConnection / ValidateFileSelection, which only check.
# Create*, Update*, Delete*, Trigger*, Retry*, Cancel*, Reset*, the state
# verbs and everything an executor reports act, and are never retried.
_IDEMPOTENT_PREFIXES = ("Get", "List", "Verify", "Validate")


def is_idempotent(method: str) -> bool:
    """Whether a call may be retried: ``"GetRun"`` or ``"/tributary.v1.RunService/GetRun"``."""
    return method.rsplit("/", 1)[-1].startswith(_IDEMPOTENT_PREFIXES)


def service_config(policy: RetryPolicy) -> str:
    """The channel's ``grpc.service_config``: UNAVAILABLE retried on the idempotent unary methods."""
    if policy.max_attempts == 1:
        return json.dumps({"methodConfig": []})
    if policy.max_attempts > 5:
        raise ValueError("gRPC retries a unary call at most 5 times in all (max_attempts <= 5)")
    names = [
        {"service": service.full_name, "method": method.name}
        for service in SERVICES
        for method in service.methods
        if not method.client_streaming
        and not method.server_streaming  # watches resume through watch_run instead
        and is_idempotent(method.name)
    ]
    retry = {
        "maxAttempts": policy.max_attempts,
        "initialBackoff": f"{policy.initial_backoff}s",
        "maxBackoff": f"{policy.max_backoff}s",
        "backoffMultiplier": policy.backoff_multiplier,
        "retryableStatusCodes": ["UNAVAILABLE"],
    }
    return json.dumps({"methodConfig": [{"name": names, "retryPolicy": retry}]})
