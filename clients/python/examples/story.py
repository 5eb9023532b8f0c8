"""The whole story against a live server: a faker connection, a sync of two
of its entities, a run watched live to its end, and the run's summary.

    TRIBUTARY_ADDR=127.0.0.1:50051 TRIBUTARY_API_KEY=trb_… python examples/story.py

Exits 1 unless the run SUCCEEDED.
"""

from __future__ import annotations

import os
import sys
import uuid

import tributary
from tributary.v1 import (
    connection_service_pb2,
    run_pb2,
    run_service_pb2,
    sync_pb2,
    sync_service_pb2,
)


def describe(event: run_pb2.RunEvent) -> str:
    kind = event.WhichOneof("event")
    if kind == "snapshot":
        return f"snapshot: {run_pb2.RunStatus.Name(event.snapshot.status)}"
    if kind == "status_changed":
        change = event.status_changed
        before = getattr(change, "from")  # a Python keyword, so not change.from
        return f"status: {run_pb2.RunStatus.Name(before)} -> {run_pb2.RunStatus.Name(change.to)}"
    if kind == "progress":
        return f"progress: {event.progress.entity_key} {event.progress.records_written} records written"
    if kind == "log":
        return f"log: {run_pb2.LogLevel.Name(event.log.level)} {event.log.message}"
    if kind == "heartbeat":
        return f"heartbeat: {event.heartbeat.records_written} records written"
    return f"{kind}"


def main() -> int:
    address = os.environ.get("TRIBUTARY_ADDR", "127.0.0.1:50051")
    api_key = os.environ["TRIBUTARY_API_KEY"]
    with tributary.Client(address, api_key, plaintext=True) as client:
        connection = client.connections.CreateConnection(
            connection_service_pb2.CreateConnectionRequest(
                name="Story demo data",
                provider="faker",
                # Paced so that the run lasts a few seconds and is worth watching.
                config={"row_count": 3000, "rows_per_second": 1000},
            )
        )
        print(f"connection {connection.id} ({connection.slug})")

        # Destination table names are unique per warehouse: suffix them so
        # the story can be told any number of times on one server.
        suffix = uuid.uuid4().hex[:8]
        sync = client.syncs.CreateSync(
            sync_service_pb2.CreateSyncRequest(
                name="Story demo to warehouse",
                connection_id=connection.id,
                entities=["users", "orders"],
                table_bindings=[
                    sync_pb2.TableBinding(entity_key=entity, physical_table_name=f"story_{entity}_{suffix}")
                    for entity in ("users", "orders")
                ],
            )
        )
        print(f"sync {sync.id}: {', '.join(b.physical_table_name for b in sync.table_bindings)}")

        run = client.syncs.TriggerSync(
            sync_service_pb2.TriggerSyncRequest(sync_id=sync.id, run_mode=run_pb2.RUN_MODE_FULL_REFRESH)
        )
        print(f"run {run.id}")

        watch = client.watch_run(run.id)
        for event in watch:
            print(f"  #{event.sequence} {describe(event)}")
        print(f"the watch resumed {watch.resumes} times")

        run = client.runs.GetRun(run_service_pb2.GetRunRequest(run_id=run.id))
        print(f"run {run_pb2.RunStatus.Name(run.status)}")
        for entity in run.summary.entities:
            print(f"  {entity.entity_key}: {entity.records_read} read, {entity.records_written} written")
        print(f"  total: {run.summary.records_written} records, {run.summary.bytes} bytes")
        return 0 if run.status == run_pb2.RUN_STATUS_SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main())
