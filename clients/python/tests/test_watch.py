"""watch_run against the live server, which cuts every stream after 1 s
(clients/serve-for-tests), so a run of a few seconds needs resuming."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import tributary
from conftest import get_run, new_sync, poll, trigger
from tributary.v1 import run_pb2, run_service_pb2


def persisted(events: Sequence[run_pb2.RunEvent]) -> list[int]:
    return [e.sequence for e in events if e.WhichOneof("event") not in ("snapshot", "heartbeat")]


def last_status(events: Sequence[run_pb2.RunEvent]) -> int:
    return [e.status_changed.to for e in events if e.HasField("status_changed")][-1]


def watch_async(server: tuple[str, str], run_id: str) -> tuple[list[run_pb2.RunEvent], int]:
    async def collect() -> tuple[list[run_pb2.RunEvent], int]:
        async with tributary.AsyncClient(server[0], server[1], plaintext=True) as client:
            watch = client.watch_run(run_id)
            return [e async for e in watch], watch.resumes

    return asyncio.run(collect())


def test_watch_survives_stream_cuts(client: tributary.Client, server: tuple[str, str]) -> None:
    # 2 entities x 3000 rows in batches paced at 1000 rows/s: about 4 s, so several cut streams.
    run = trigger(client, new_sync(client, row_count=3000, rows_per_second=1000).id)
    with ThreadPoolExecutor(1) as pool:
        async_watch = pool.submit(watch_async, server, run.id)  # the asyncio variant, alongside
        watch = client.watch_run(run.id)
        events = list(watch)
        async_events, async_resumes = async_watch.result(timeout=60)

    final = get_run(client, run.id)
    assert final.status == run_pb2.RUN_STATUS_SUCCEEDED
    expected = list(range(1, final.last_event_sequence + 1))
    for got, resumes in [(events, watch.resumes), (async_events, async_resumes)]:
        assert got[0].WhichOneof("event") == "snapshot"
        assert [e.WhichOneof("event") for e in got].count("snapshot") == 1
        assert persisted(got) == expected  # each persisted event once, in order, none missing
        assert last_status(got) == run_pb2.RUN_STATUS_SUCCEEDED
        assert got[-1].HasField("status_changed")
        assert resumes >= 1
    assert watch.last_sequence == final.last_event_sequence


def test_watch_follows_the_next_attempt(client: tributary.Client) -> None:
    # Batches of 1000 rows paced at 1000 rows/s: about a second per entity.
    sync = new_sync(client, row_count=2000, rows_per_second=1000)
    first = trigger(client, sync.id)
    poll(lambda: get_run(client, first.id).status == run_pb2.RUN_STATUS_RUNNING, what="a running run")
    client.runs.CancelRun(run_service_pb2.CancelRunRequest(run_id=first.id, reason="test"))
    poll(lambda: get_run(client, first.id).status == run_pb2.RUN_STATUS_CANCELLED, what="the cancel")
    second = client.runs.RetryRun(run_service_pb2.RetryRunRequest(run_id=first.id))

    watch = client.watch_run(first.id, follow_attempts=True, heartbeats=False)
    events = list(watch)

    assert watch.run_id == second.id
    of_first = [e for e in events if e.run_id == first.id]
    of_second = [e for e in events if e.run_id == second.id]
    assert events == of_first + of_second  # one attempt after the other
    for run_id, got in [(first.id, of_first), (second.id, of_second)]:
        assert got[0].WhichOneof("event") == "snapshot"
        assert persisted(got) == list(range(1, get_run(client, run_id).last_event_sequence + 1))
    assert last_status(of_first) == run_pb2.RUN_STATUS_CANCELLED
    assert last_status(of_second) == run_pb2.RUN_STATUS_SUCCEEDED
    assert not any(e.HasField("heartbeat") for e in events)
