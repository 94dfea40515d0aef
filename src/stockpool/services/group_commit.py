"""Group commit: concurrent callers share one transaction instead of queueing for one each.

A database has one writer at a time (SQLite) or pays a commit and its round trips per
transaction (PostgreSQL). When many callers write at once, the first to find no batch
running leads: it takes every request waiting (up to `limit`), runs them together with the
batch function it was given, hands each caller its own outcome, and passes the lead to the
oldest caller still waiting. A caller alone pays one transaction, as before; under load each
transaction carries many requests, so throughput grows with the load.

A caller's outcome is known only after its batch committed. When a batch fails as a whole
(for example the database went away), each of its requests is run alone, so that one bad
request cannot fail the others.

Where writers queue for the whole database (SQLite; other processes write too), the leader
first waits for the writer's turn (`turn`) and only then takes the waiting requests: every
request that arrived while it waited joins the batch, instead of waiting for the next one.

Where the database takes writers side by side (PostgreSQL: row locks), up to `lanes`
batches run at once, so that one batch's round trips overlap another's. Each lane passes
its lead on to the oldest caller still waiting, as the single lane does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Generic, TypeVar

Request = TypeVar("Request")
Outcome = TypeVar("Outcome")
BatchRun = Callable[[Sequence[Request]], Sequence[Outcome]]


class _Slot(Generic[Request, Outcome]):
    """One caller's request, and its outcome once known."""

    __slots__ = ("error", "finished", "lead", "outcome", "request", "signal")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.signal = threading.Event()  # something changed: told to lead, or finished
        self.lead = False  # holds a lane: leads the next batch
        self.finished = False  # outcome (or error) known
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None

    def result(self) -> Outcome:
        if self.error is not None:
            raise self.error
        return self.outcome  # type: ignore[return-value]


class GroupCommit(Generic[Request, Outcome]):
    """Runs requests of concurrent callers in shared batches (see the module)."""

    def __init__(
        self,
        limit: int = 256,
        turn: Callable[[], AbstractContextManager[None]] = nullcontext,
        lanes: int = 1,
    ) -> None:
        if limit < 1:
            raise ValueError("a batch holds at least one request")
        if lanes < 1:
            raise ValueError("a group commit needs at least one lane")
        self.limit = limit
        self.lanes = lanes
        self._turn = turn
        self._lock = threading.Lock()
        self._waiting: list[_Slot[Request, Outcome]] = []
        self._free = lanes  # lanes no caller holds
        self.batches = 0  # how many batches ran, for whoever wants to watch
        self.requests = 0

    def submit(self, request: Request, run: BatchRun[Request, Outcome]) -> Outcome:
        """Run `request` in a batch with whatever else is waiting; its own outcome.

        `run` takes a batch of requests and returns one outcome per request, in order.
        Every caller sharing a batch must pass a function with the same effect.
        """
        slot: _Slot[Request, Outcome] = _Slot(request)
        with self._lock:
            self._waiting.append(slot)
            if self._free:
                self._free -= 1
                slot.lead = True
        while True:
            with self._lock:
                slot.signal.clear()  # flags are read after clearing: no wake-up is lost
                finished, lead = slot.finished, slot.lead
                slot.lead = False
                if finished and lead:  # another lane ran our request: pass our lane on
                    self._pass_lane()
            if finished:
                return slot.result()
            if lead:  # our request is first in the next batch, unless a lane took it already
                self._lead(run)
            else:
                slot.signal.wait()

    def _pass_lane(self) -> None:
        """Give a lane to the oldest caller waiting that holds none yet, or free it (under
        the lock)."""
        successor = next((s for s in self._waiting if not s.lead), None)
        if successor is None:
            self._free += 1
        else:
            successor.lead = True
            successor.signal.set()

    def _take(self) -> list[_Slot[Request, Outcome]]:
        with self._lock:
            batch = self._waiting[: self.limit]
            del self._waiting[: self.limit]
        return batch

    def _lead(self, run: BatchRun[Request, Outcome]) -> None:
        batch: list[_Slot[Request, Outcome]] = []
        ran = False
        try:
            with self._turn():
                batch = self._take()
                if batch:
                    _run_batch(batch, run)
                ran = True
        except Exception as error:  # waiting for the turn failed: so does the batch
            if not ran:  # (after it ran, its outcomes stand: they are committed)
                batch = batch or self._take()
                for slot in batch:
                    slot.error = error
        finally:
            with self._lock:
                for slot in batch:
                    slot.finished = True
                    slot.signal.set()
                if batch:
                    self.batches += 1
                    self.requests += len(batch)
                self._pass_lane()


def _run_batch(batch: list[_Slot[Request, Outcome]], run: BatchRun[Request, Outcome]) -> None:
    try:
        outcomes = run([slot.request for slot in batch])
    except Exception as error:  # the batch as a whole failed: each request alone
        if len(batch) == 1:
            batch[0].error = error
            return
        for slot in batch:
            try:
                slot.outcome = run([slot.request])[0]
            except Exception as alone:
                slot.error = alone
        return
    for slot, outcome in zip(batch, outcomes, strict=True):
        slot.outcome = outcome
