"""Group commit: concurrent callers share batches, each gets its own outcome."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from stockpool.services.group_commit import GroupCommit


def test_a_caller_alone_runs_a_batch_of_one() -> None:
    seen: list[list[int]] = []

    def run(batch: Sequence[int]) -> list[int]:
        seen.append(list(batch))
        return [x * 10 for x in batch]

    group: GroupCommit[int, int] = GroupCommit()
    assert group.submit(4, run) == 40
    assert group.submit(5, run) == 50
    assert seen == [[4], [5]]


def _callers(group: GroupCommit[int, int], run: object, count: int) -> dict[int, object]:
    results: dict[int, object] = {}
    start = threading.Barrier(count)

    def call(n: int) -> None:
        start.wait()
        try:
            results[n] = group.submit(n, run)  # type: ignore[arg-type]
        except Exception as error:
            results[n] = error

    threads = [threading.Thread(target=call, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_callers_share_batches_and_each_gets_its_own_outcome() -> None:
    batches: list[list[int]] = []

    def run(batch: Sequence[int]) -> list[int]:
        batches.append(list(batch))
        time.sleep(0.02)  # a transaction takes a while: others queue behind it
        return [x * 10 for x in batch]

    group: GroupCommit[int, int] = GroupCommit(limit=8)
    results = _callers(group, run, 40)
    assert results == {n: n * 10 for n in range(40)}
    assert sorted(x for b in batches for x in b) == list(range(40))  # each exactly once
    assert max(len(b) for b in batches) > 1  # callers shared transactions
    assert max(len(b) for b in batches) <= 8  # never beyond the limit
    assert group.requests == 40
    assert group.batches == len(batches)


def test_a_batch_that_fails_as_a_whole_is_run_request_by_request() -> None:
    def run(batch: Sequence[int]) -> list[int]:
        time.sleep(0.01)
        if 13 in batch:
            raise RuntimeError("the database refused the batch")
        return list(batch)

    group: GroupCommit[int, int] = GroupCommit()
    results = _callers(group, run, 30)
    assert isinstance(results.pop(13), RuntimeError)  # only the bad request fails
    assert results == {n: n for n in range(30) if n != 13}


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        GroupCommit(limit=0)


def test_requests_that_arrive_while_the_leader_waits_for_its_turn_join_its_batch() -> None:
    turn = threading.Lock()
    turn.acquire()  # another writer has the turn
    batches: list[list[int]] = []

    @contextmanager
    def writer_turn() -> Iterator[None]:
        with turn:
            yield

    def run(batch: Sequence[int]) -> list[int]:
        batches.append(list(batch))
        return [x * 10 for x in batch]

    group: GroupCommit[int, int] = GroupCommit(turn=writer_turn)
    results: dict[int, int] = {}
    threads = [
        threading.Thread(target=lambda n=n: results.setdefault(n, group.submit(n, run)))
        for n in range(6)
    ]
    threads[0].start()
    time.sleep(0.05)  # the first caller leads, and waits for the turn
    for t in threads[1:]:
        t.start()
    time.sleep(0.05)
    turn.release()
    for t in threads:
        t.join(10)
    assert results == {n: n * 10 for n in range(6)}
    assert [sorted(b) for b in batches] == [list(range(6))]  # one batch: all who waited


def test_a_turn_that_cannot_be_had_fails_every_waiting_request() -> None:
    @contextmanager
    def busy() -> Iterator[None]:
        raise TimeoutError("the database stayed locked")
        yield

    def run(batch: Sequence[int]) -> list[int]:
        raise AssertionError("never runs without the turn")

    group: GroupCommit[int, int] = GroupCommit(turn=busy)
    with pytest.raises(TimeoutError):
        group.submit(1, run)
    results = _callers(group, run, 5)
    assert all(isinstance(x, TimeoutError) for x in results.values())


def test_lanes_run_batches_side_by_side_and_never_lose_a_lane() -> None:
    lanes = 3
    running = [0]
    most = [0]
    seen: list[int] = []
    guard = threading.Lock()

    def run(batch: Sequence[int]) -> list[int]:
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
            seen.extend(batch)
        time.sleep(0.005)  # a batch waits on the database: others may run meanwhile
        with guard:
            running[0] -= 1
        return [x * 10 for x in batch]

    group: GroupCommit[int, int] = GroupCommit(limit=4, lanes=lanes)
    results: dict[int, int] = {}

    def caller(base: int) -> None:
        for n in range(base, base + 20):
            results[n] = group.submit(n, run)

    threads = [threading.Thread(target=caller, args=(k * 100,)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    expected = {k * 100 + i: (k * 100 + i) * 10 for k in range(12) for i in range(20)}
    assert results == expected
    assert sorted(seen) == sorted(expected)  # every request ran exactly once
    assert 1 < most[0] <= lanes  # side by side, never more than the lanes
    assert group._free == lanes  # every lane came back
    assert group.requests == len(expected)


def test_callers_on_an_event_loop_share_batches_without_holding_threads() -> None:
    batches: list[list[int]] = []
    threads_running = threading.active_count()
    most_threads = [0]

    def run(batch: Sequence[int]) -> list[int]:
        batches.append(list(batch))
        most_threads[0] = max(most_threads[0], threading.active_count())
        time.sleep(0.01)
        return [x * 10 for x in batch]

    group: GroupCommit[int, int] = GroupCommit(limit=16)

    async def main() -> list[int]:
        return list(await asyncio.gather(*(group.submit_async(n, run) for n in range(60))))

    assert asyncio.run(main()) == [n * 10 for n in range(60)]
    assert sorted(x for b in batches for x in b) == list(range(60))  # each exactly once
    assert max(len(b) for b in batches) > 1  # they shared transactions
    assert group._free == 1  # the lane came back
    assert most_threads[0] <= threads_running + 1  # one leading thread, none per caller


def test_async_and_thread_callers_together_each_get_their_own_outcome() -> None:
    def run(batch: Sequence[int]) -> list[int]:
        time.sleep(0.002)
        if 77 in batch:
            raise RuntimeError("the database refused the batch")
        return [x * 10 for x in batch]

    group: GroupCommit[int, int] = GroupCommit(limit=8, lanes=2)
    from_threads: dict[int, object] = {}

    def caller(base: int) -> None:
        for n in range(base, base + 15):
            from_threads[n] = group.submit(n, run)

    async def main() -> list[object]:
        async def one(n: int) -> object:
            try:
                return await group.submit_async(n, run)
            except RuntimeError as error:
                return error

        return list(await asyncio.gather(*(one(n) for n in range(50, 100))))

    threads = [threading.Thread(target=caller, args=(k * 1000,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    from_loop = asyncio.run(main())
    for t in threads:
        t.join(60)
    assert isinstance(from_loop[77 - 50], RuntimeError)  # only the bad request fails
    assert [x for n, x in zip(range(50, 100), from_loop, strict=True) if n != 77] == [
        n * 10 for n in range(50, 100) if n != 77
    ]
    assert from_threads == {
        k * 1000 + i: (k * 1000 + i) * 10 for k in range(1, 5) for i in range(15)
    }
    assert group._free == 2  # every lane came back
    assert group.requests == 50 + 60


def test_an_abandoned_async_caller_leaves_the_others_their_outcomes() -> None:
    gate = threading.Event()

    def run(batch: Sequence[int]) -> list[int]:
        gate.wait(5)
        return [x * 10 for x in batch]

    group: GroupCommit[int, int] = GroupCommit()

    async def main() -> list[int]:
        first = asyncio.ensure_future(group.submit_async(1, run))
        second = asyncio.ensure_future(group.submit_async(2, run))
        await asyncio.sleep(0.05)
        first.cancel()  # its caller went away; its request still runs
        gate.set()
        return [await second, await group.submit_async(3, run)]

    assert asyncio.run(main()) == [20, 30]
    assert group._free == 1
