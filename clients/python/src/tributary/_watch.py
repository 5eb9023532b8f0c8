"""watch_run: one run's events, resumed across dropped streams.

Persisted events (status changes, progress, log lines) are numbered 1, 2, 3 …
per run. The watch remembers the last one it delivered and, when a stream
ends with UNAVAILABLE (a stream cap, a restart, a lost connection), opens a
new one with ``after_sequence`` set to it, so each persisted event is
delivered exactly once and in order: repeats are dropped, and a gap (a
number further on than the next) reopens the stream to have it filled.

Snapshots: the first one is delivered (the run as it stands), and with
``follow_attempts`` the first one of each next attempt. The snapshots a
reopened stream starts with, and those the server sends a watcher that
lagged, are dropped: every persisted event they summarise is delivered
anyway. Heartbeats are live only and delivered unless ``heartbeats=False``.
"""

from __future__ import annotations

import asyncio
import enum
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any

import grpc

from tributary._errors import TributaryError
from tributary._options import RetryPolicy
from tributary.v1 import run_pb2, run_service_pb2


class _Verdict(enum.Enum):
    DELIVER = enum.auto()
    DROP = enum.auto()
    REOPEN = enum.auto()


class _Cursor:
    """Where a watch is: the run it is on and the last persisted sequence delivered."""

    def __init__(self, run_id: str, after_sequence: int, follow_attempts: bool, heartbeats: bool) -> None:
        self.run_id = run_id
        self.last_sequence = after_sequence
        self.follow_attempts = follow_attempts
        self.heartbeats = heartbeats
        self._snapshot_delivered: set[str] = set()

    def request(self) -> run_service_pb2.WatchRunRequest:
        return run_service_pb2.WatchRunRequest(
            run_id=self.run_id,
            after_sequence=self.last_sequence,
            follow_attempts=self.follow_attempts,
        )

    def accept(self, event: run_pb2.RunEvent) -> _Verdict:
        if event.run_id != self.run_id:
            # The server moved on to the next attempt, whose sequence starts over.
            self.run_id, self.last_sequence = event.run_id, 0
        kind = event.WhichOneof("event")
        if kind == "snapshot":
            if event.run_id in self._snapshot_delivered:
                return _Verdict.DROP
            self._snapshot_delivered.add(event.run_id)
            return _Verdict.DELIVER
        if kind == "heartbeat":
            return _Verdict.DELIVER if self.heartbeats else _Verdict.DROP
        # Persisted (including kinds newer than this client: they are numbered too).
        if event.sequence <= self.last_sequence:
            return _Verdict.DROP
        if event.sequence > self.last_sequence + 1:
            return _Verdict.REOPEN
        self.last_sequence = event.sequence
        return _Verdict.DELIVER


class _Resumption:
    """Counts reopened streams and decides how long to wait before each."""

    def __init__(self, retry: RetryPolicy) -> None:
        self.retry = retry
        self.resumes = 0
        self._failures = 0  # streams in a row that received nothing

    def after_stream(self, received: bool, error: TributaryError | None) -> float:
        """Seconds to wait before reopening; raises ``error`` when it is final."""
        if error is not None and error.code != grpc.StatusCode.UNAVAILABLE:
            raise error
        self._failures = 0 if received else self._failures + 1
        if error is not None and self._failures >= self.retry.max_attempts:
            raise error
        self.resumes += 1
        return self.retry.delay(max(self._failures - 1, 0))


class RunWatch(Iterator[run_pb2.RunEvent]):
    """An iterator over a run's events (``tributary.v1.run_pb2.RunEvent``).

    It ends when the server closes the stream after the terminal status
    change (of the last attempt, with ``follow_attempts``). ``cancel()`` ends
    it from another thread; ``close()`` or leaving a ``with`` block from the
    iterating one. ``resumes`` counts the streams it reopened.
    """

    def __init__(
        self,
        runs: Any,
        run_id: str,
        *,
        after_sequence: int,
        follow_attempts: bool,
        heartbeats: bool,
        retry: RetryPolicy,
    ) -> None:
        self._runs = runs
        self._cursor = _Cursor(run_id, after_sequence, follow_attempts, heartbeats)
        self._resumption = _Resumption(retry)
        self._stopped = threading.Event()
        self._call: Any = None
        self._events = self._watch()

    @property
    def run_id(self) -> str:
        """The run being watched: the next attempt's once the watch followed it."""
        return self._cursor.run_id

    @property
    def last_sequence(self) -> int:
        """The last persisted sequence delivered (of ``run_id``): where a new watch would resume."""
        return self._cursor.last_sequence

    @property
    def resumes(self) -> int:
        return self._resumption.resumes

    def __next__(self) -> run_pb2.RunEvent:
        return next(self._events)

    def cancel(self) -> None:
        self._stopped.set()
        call = self._call
        if call is not None:
            call.cancel()

    def close(self) -> None:
        self.cancel()
        self._events.close()

    def __enter__(self) -> RunWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _watch(self) -> Generator[run_pb2.RunEvent, None, None]:
        while not self._stopped.is_set():
            self._call = call = self._runs.WatchRun(self._cursor.request())
            received, error = False, None
            try:
                for event in call:
                    received = True
                    verdict = self._cursor.accept(event)
                    if verdict is _Verdict.DELIVER:
                        yield event
                    elif verdict is _Verdict.REOPEN:
                        break
                else:
                    return  # closed by the server: the run is over
            except TributaryError as e:
                if self._stopped.is_set():
                    return
                error = e
            finally:
                call.cancel()
            if self._stopped.wait(self._resumption.after_stream(received, error)):
                return


class AsyncRunWatch(AsyncIterator[run_pb2.RunEvent]):
    """RunWatch for asyncio: ``async for event in client.watch_run(run_id)``.

    Cancelling the iterating task or ``aclose()`` ends it.
    """

    def __init__(
        self,
        runs: Any,
        run_id: str,
        *,
        after_sequence: int,
        follow_attempts: bool,
        heartbeats: bool,
        retry: RetryPolicy,
    ) -> None:
        self._runs = runs
        self._cursor = _Cursor(run_id, after_sequence, follow_attempts, heartbeats)
        self._resumption = _Resumption(retry)
        self._events = self._watch()

    run_id = RunWatch.run_id
    last_sequence = RunWatch.last_sequence
    resumes = RunWatch.resumes

    async def __anext__(self) -> run_pb2.RunEvent:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        await self._events.aclose()

    async def _watch(self) -> AsyncGenerator[run_pb2.RunEvent, None]:
        while True:
            call = self._runs.WatchRun(self._cursor.request())
            received, error = False, None
            try:
                async for event in call:
                    received = True
                    verdict = self._cursor.accept(event)
                    if verdict is _Verdict.DELIVER:
                        yield event
                    elif verdict is _Verdict.REOPEN:
                        break
                else:
                    return
            except TributaryError as e:
                error = e
            finally:
                call.cancel()
            await asyncio.sleep(self._resumption.after_stream(received, error))
