"""RunWatch's resume logic on scripted streams: repeats, gaps, cut streams,
next attempts and errors that are final, without a server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence

import grpc
import pytest

import tributary
from tributary import RetryPolicy, TributaryError
from tributary.v1 import run_pb2, run_service_pb2

FAST = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.001)
CUT = TributaryError(grpc.StatusCode.UNAVAILABLE, "stream cap reached")
End = TributaryError | None  # how a scripted stream ends: an error, or closed normally


def snapshot(seq: int, run: str = "r1") -> run_pb2.RunEvent:
    return run_pb2.RunEvent(run_id=run, sequence=seq, snapshot=run_pb2.Run(id=run))


def log(seq: int, run: str = "r1") -> run_pb2.RunEvent:
    return run_pb2.RunEvent(run_id=run, sequence=seq, log=run_pb2.LogLine(message=f"line {seq}"))


def done(seq: int, run: str = "r1", to: int = run_pb2.RUN_STATUS_SUCCEEDED) -> run_pb2.RunEvent:
    return run_pb2.RunEvent(run_id=run, sequence=seq, status_changed=run_pb2.StatusChanged(to=to))


def heartbeat(seq: int, run: str = "r1") -> run_pb2.RunEvent:
    return run_pb2.RunEvent(run_id=run, sequence=seq, heartbeat=run_pb2.Heartbeat())


class Stream:
    def __init__(self, events: Sequence[run_pb2.RunEvent], end: End) -> None:
        self.events, self.end, self.cancelled = list(events), end, False

    def __iter__(self) -> Iterator[run_pb2.RunEvent]:
        yield from self.events
        if self.end is not None:
            raise self.end

    async def __aiter__(self) -> AsyncIterator[run_pb2.RunEvent]:
        for e in self.events:
            yield e
        if self.end is not None:
            raise self.end

    def cancel(self) -> None:
        self.cancelled = True


class Runs:
    """A RunService stub whose WatchRun plays one scripted stream per call."""

    def __init__(self, *streams: tuple[Sequence[run_pb2.RunEvent], End]) -> None:
        self.script = [Stream(events, end) for events, end in streams]
        self.opened: list[Stream] = []
        self.requests: list[run_service_pb2.WatchRunRequest] = []

    def WatchRun(self, request: run_service_pb2.WatchRunRequest) -> Stream:  # noqa: N802
        self.requests.append(request)
        self.opened.append(self.script[len(self.opened)])
        return self.opened[-1]

    def resumed_at(self) -> list[tuple[str, int]]:
        return [(r.run_id, r.after_sequence) for r in self.requests]


def watch(runs: Runs, **kwargs: object) -> tributary.RunWatch:
    options = {"after_sequence": 0, "follow_attempts": False, "heartbeats": True, "retry": FAST}
    return tributary.RunWatch(runs, "r1", **{**options, **kwargs})  # type: ignore[arg-type]


def kinds(events: Sequence[run_pb2.RunEvent]) -> list[tuple[str, str | None, int]]:
    return [(e.run_id, e.WhichOneof("event"), e.sequence) for e in events]


def test_a_cut_stream_resumes_after_the_last_delivered_event() -> None:
    runs = Runs(
        ([snapshot(2), log(1), log(2)], CUT),
        ([snapshot(3), log(2), log(3), done(4)], None),  # log 2 again: the server replays from after_sequence
    )
    w = watch(runs)
    events = list(w)
    assert kinds(events) == [("r1", "snapshot", 2)] + [
        ("r1", k, s) for k, s in [("log", 1), ("log", 2), ("log", 3), ("status_changed", 4)]
    ]
    assert runs.resumed_at() == [("r1", 0), ("r1", 2)]
    assert w.resumes == 1 and w.last_sequence == 4


def test_a_gap_reopens_the_stream_to_fill_it() -> None:
    runs = Runs(([snapshot(0), log(1), log(3)], None), ([snapshot(3), log(2), log(3), done(4)], None))
    w = watch(runs)
    assert [e.sequence for e in w if not e.HasField("snapshot")] == [1, 2, 3, 4]
    assert runs.resumed_at() == [("r1", 0), ("r1", 1)]
    assert runs.opened[0].cancelled
    assert w.resumes == 1


def test_follows_the_next_attempt_whose_sequence_starts_over() -> None:
    runs = Runs(
        ([snapshot(0), log(1), done(2, to=run_pb2.RUN_STATUS_FAILED), snapshot(0, "r2"), log(1, "r2")], CUT),
        ([snapshot(1, "r2"), log(1, "r2"), done(2, "r2")], None),
    )
    w = watch(runs, follow_attempts=True)
    assert kinds(list(w)) == [
        ("r1", "snapshot", 0), ("r1", "log", 1), ("r1", "status_changed", 2),
        ("r2", "snapshot", 0), ("r2", "log", 1), ("r2", "status_changed", 2),
    ]  # fmt: skip
    assert runs.requests[1].run_id == "r2" and runs.requests[1].after_sequence == 1
    assert runs.requests[1].follow_attempts
    assert w.run_id == "r2"


def test_heartbeats_pass_through_unless_filtered() -> None:
    script = ([snapshot(0), heartbeat(0), log(1), heartbeat(1), done(2)], None)
    assert [e.WhichOneof("event") for e in watch(Runs(script))].count("heartbeat") == 2
    assert [e.WhichOneof("event") for e in watch(Runs(script), heartbeats=False)].count("heartbeat") == 0


def test_an_error_other_than_unavailable_is_raised_at_once() -> None:
    runs = Runs(([snapshot(0), log(1)], TributaryError(grpc.StatusCode.PERMISSION_DENIED, "no")))
    w = watch(runs)
    with pytest.raises(TributaryError) as caught:
        list(w)
    assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert len(runs.opened) == 1


def test_gives_up_after_max_attempts_streams_in_a_row_receive_nothing() -> None:
    runs = Runs(([snapshot(0), log(1)], CUT), *[([], CUT)] * 3)
    w = watch(runs)
    with pytest.raises(TributaryError) as caught:
        list(w)
    assert caught.value is CUT
    assert len(runs.opened) == 4  # one that received, then FAST.max_attempts that did not


def test_close_cancels_the_open_stream() -> None:
    runs = Runs(([snapshot(0), log(1), log(2)], None))
    with watch(runs) as w:
        next(w)
    assert runs.opened[0].cancelled
    assert list(w) == []


def test_the_async_watch_resumes_the_same_way() -> None:
    runs = Runs(([snapshot(2), log(1), log(2)], CUT), ([snapshot(3), log(2), log(3), done(4)], None))

    async def collect() -> tuple[list[run_pb2.RunEvent], int]:
        w = tributary.AsyncRunWatch(
            runs, "r1", after_sequence=0, follow_attempts=False, heartbeats=True, retry=FAST
        )
        return [e async for e in w], w.resumes

    events, resumes = asyncio.run(collect())
    assert [e.sequence for e in events if not e.HasField("snapshot")] == [1, 2, 3, 4]
    assert runs.resumed_at() == [("r1", 0), ("r1", 2)]
    assert resumes == 1
