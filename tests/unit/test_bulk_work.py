"""The garbage collector pause around bulk work."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from stockpool.services.bulk_work import collector_paused, settle_long_lived


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_paused_inside_and_resumes_after(collector_on: None) -> None:
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested bulk work
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer work still runs
    assert gc.isenabled()


def test_the_collector_resumes_after_an_error(collector_on: None) -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("bulk work failed")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled(collector_on: None) -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_settled_objects_leave_the_collectors_view_and_garbage_is_collected_first() -> None:
    class Node:
        def __init__(self) -> None:
            self.other: Node | None = None

    kept = [Node() for _ in range(100)]
    cycle = Node()
    cycle.other = Node()
    cycle.other.other = cycle  # garbage with a reference cycle
    gone = cycle.other
    del cycle
    watcher = weakref.ref(gone)
    del gone
    settle_long_lived()
    assert watcher() is None  # the cycle was collected before the freeze
    tracked = {id(o) for o in gc.get_objects()}
    assert not any(id(node) in tracked for node in kept)  # frozen: no collection walks them
    assert gc.get_freeze_count() >= len(kept)
    later = Node()
    assert id(later) in {id(o) for o in gc.get_objects()}  # newer objects are walked again
