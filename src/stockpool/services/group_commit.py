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

A caller on an event loop (`submit_async`) waits without holding a thread. It cannot lead:
when the lead would pass to it, the thread leading runs the next batch itself, and a lane
free when it arrives is taken by a worker thread that leads until no one waits.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from typing import Generic, TypeVar

Request = TypeVar("Request")
Outcome = TypeVar("Outcome")
BatchRun = Callable[[Sequence[Request]], Sequence[Outcome]]


class _Slot(Generic[Request, Outcome]):
    """One caller's request, and its outcome once known."""

    __slots__ = ("error", "finished", "future", "lead", "outcome", "request", "signal")

    def __init__(self, request: Request, future: asyncio.Future[None] | None = None) -> None:
        self.request = request
        self.future = future  # an async caller's: resolved once finished
        self.signal = threading.Event()  # something changed: told to lead, or finished
        self.lead = False  # holds a lane: leads the next batch
        self.finished = False  # outcome (or error) known
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None

    def result(self) -> Outcome:
        if self.error is not None:
            raise self.error
        return self.outcome  # type: ignore[return-value]

    def wake(self) -> None:
        """Tell the caller its outcome is known (under the group's lock)."""
        self.signal.set()
        if self.future is not None:
            with suppress(RuntimeError):  # a closed event loop: nobody waits any more
                self.future.get_loop().call_soon_threadsafe(_resolve, self.future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # an abandoned caller's request still ran; nobody reads it
        future.set_result(None)


_leading: set[asyncio.Future[None]] = set()  # worker threads leading for async callers


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
                    lead = self._pass_lane()  # (or lead for a caller that cannot)
            if finished:
                if lead:
                    self._lead(run)
                return slot.result()
            if lead:  # our request is first in the next batch, unless a lane took it already
                self._lead(run)
            else:
                slot.signal.wait()

    async def submit_async(self, request: Request, run: BatchRun[Request, Outcome]) -> Outcome:
        """`submit` for a caller on an event loop: it waits for its outcome without holding
        a thread; the batches it joins run on worker threads."""
        slot: _Slot[Request, Outcome] = _Slot(request, asyncio.get_running_loop().create_future())
        with self._lock:
            self._waiting.append(slot)
            lead = self._free > 0
            if lead:
                self._free -= 1
        if lead:  # a worker thread leads; this caller waits for its own outcome only
            leading = asyncio.get_running_loop().run_in_executor(None, self._lead, run)
            _leading.add(leading)
            leading.add_done_callback(_leading.discard)
        assert slot.future is not None
        await slot.future
        return slot.result()

    def _pass_lane(self) -> bool:
        """Give a lane to the oldest caller waiting that holds none yet, or free it (under
        the lock). True when that caller waits on an event loop: the thread passing the
        lane leads its batch instead."""
        successor = next((s for s in self._waiting if not s.lead), None)
        if successor is None:
            self._free += 1
            return False
        if successor.future is not None:
            return True
        successor.lead = True
        successor.signal.set()
        return False

    def _take(self) -> list[_Slot[Request, Outcome]]:
        with self._lock:
            batch = self._waiting[: self.limit]
            del self._waiting[: self.limit]
        return batch

    def _lead(self, run: BatchRun[Request, Outcome]) -> None:
        """Run batches while the lane would pass to callers that cannot lead."""
        while self._lead_once(run):
            pass

    def _lead_once(self, run: BatchRun[Request, Outcome]) -> bool:
        batch: list[_Slot[Request, Outcome]] = []
        ran = False
        again = False
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
                    slot.wake()
                if batch:
                    self.batches += 1
                    self.requests += len(batch)
                again = self._pass_lane()
        return again


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
