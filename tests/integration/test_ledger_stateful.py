"""Random sequences of every ledger operation, also from several threads at once.

After each step: stored balances equal the rebuild from the ledger, no state is negative,
available == on_hand - committed - unavailable, and (for sequential steps) every balance
equals the one a plain in-memory model predicts, including which operations are refused.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from stockpool.domain.errors import InsufficientStock, InvalidInput, InvalidTransition
from stockpool.domain.quantities import UnavailableReason
from stockpool.services import catalog, stock, transfers
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.services.verify import verify

ME = Actor("hypothesis")
LOCATIONS = ("A", "B", "C")
REASONS = (None, *UnavailableReason)
_runs = itertools.count()
REFUSALS = (InsufficientStock, InvalidInput, InvalidTransition)


@dataclass
class Level:
    on_hand: int = 0
    incoming: int = 0
    unavailable: dict[UnavailableReason, int] = field(
        default_factory=lambda: dict.fromkeys(UnavailableReason, 0)
    )

    @property
    def available(self) -> int:
        return self.on_hand - sum(self.unavailable.values())


def _operation(app: Services, skus: list[str]) -> st.SearchStrategy[Callable[[], object]]:
    """A random operation, as a thunk, for the concurrent rule."""
    sku, loc, qty = st.sampled_from(skus), st.sampled_from(LOCATIONS), st.integers(1, 6)
    return st.one_of(
        st.builds(lambda s, loc, q: lambda: stock.receive(app, s, loc, q, actor=ME), sku, loc, qty),
        st.builds(
            lambda s, loc, q: lambda: stock.adjust(app, s, loc, -q, reason="lost", actor=ME),
            sku,
            loc,
            qty,
        ),
        st.builds(lambda s, loc, q: lambda: stock.count(app, s, loc, q, actor=ME), sku, loc, qty),
        st.builds(
            lambda s, loc, q: (
                lambda: stock.reclassify(
                    app, s, loc, q, source=None, target=UnavailableReason.DAMAGED, actor=ME
                )
            ),
            sku,
            loc,
            qty,
        ),
        st.builds(
            lambda s, loc, q: (
                lambda: stock.reclassify(
                    app, s, loc, q, source=UnavailableReason.DAMAGED, target=None, actor=ME
                )
            ),
            sku,
            loc,
            qty,
        ),
        st.builds(
            lambda s, q: lambda: transfers.ship_transfer(app, "A", "B", {s: q}, actor=ME),
            sku,
            qty,
        ),
        st.builds(
            lambda s, q: lambda: transfers.ship_transfer(app, "B", "A", {s: q}, actor=ME),
            sku,
            qty,
        ),
    )


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, app: Services) -> None:
        super().__init__()
        self.app = app
        run = next(_runs)
        self.skus = [f"R{run}-X", f"R{run}-y"]
        for sku in self.skus:
            catalog.add_item(app, sku, sku)
        self.model = {(s, loc): Level() for s in self.skus for loc in LOCATIONS}
        self.open_transfers: dict[int, tuple[str, str, str, int]] = {}

    def _refused(self, call: Callable[[], object]) -> bool:
        try:
            call()
        except REFUSALS:
            return True
        return False

    @rule(i=st.integers(0, 1), loc=st.sampled_from(LOCATIONS), qty=st.integers(1, 20))
    def receive(self, i: int, loc: str, qty: int) -> None:
        stock.receive(self.app, self.skus[i], loc, qty, actor=ME)
        self.model[self.skus[i], loc].on_hand += qty

    @rule(i=st.integers(0, 1), loc=st.sampled_from(LOCATIONS), delta=st.integers(-12, 12))
    def adjust(self, i: int, loc: str, delta: int) -> None:
        level = self.model[self.skus[i], loc]
        refused = self._refused(
            lambda: stock.adjust(self.app, self.skus[i], loc, delta, reason="r", actor=ME)
        )
        assert refused == (delta == 0 or level.available + delta < 0)
        if not refused:
            level.on_hand += delta

    @rule(i=st.integers(0, 1), loc=st.sampled_from(LOCATIONS), counted=st.integers(0, 25))
    def count(self, i: int, loc: str, counted: int) -> None:
        stock.count(self.app, self.skus[i], loc, counted, actor=ME)
        level = self.model[self.skus[i], loc]
        missing = level.on_hand - counted - level.available
        for reason in UnavailableReason:
            take = min(max(missing, 0), level.unavailable[reason])
            level.unavailable[reason] -= take
            missing -= take
        level.on_hand = counted

    @rule(
        i=st.integers(0, 1),
        loc=st.sampled_from(LOCATIONS),
        qty=st.integers(1, 8),
        source=st.sampled_from(REASONS),
        dest=st.sampled_from(REASONS),
    )
    def reclassify(
        self,
        i: int,
        loc: str,
        qty: int,
        source: UnavailableReason | None,
        dest: UnavailableReason | None,
    ) -> None:
        level = self.model[self.skus[i], loc]
        held = level.available if source is None else level.unavailable[source]
        refused = self._refused(
            lambda: stock.reclassify(
                self.app, self.skus[i], loc, qty, source=source, target=dest, actor=ME
            )
        )
        assert refused == (source == dest or held < qty)
        if not refused:
            if source is not None:
                level.unavailable[source] -= qty
            if dest is not None:
                level.unavailable[dest] += qty

    @rule(
        i=st.integers(0, 1),
        pair=st.permutations(LOCATIONS).map(lambda p: p[:2]),
        qty=st.integers(1, 10),
    )
    def ship(self, i: int, pair: tuple[str, str], qty: int) -> None:
        src, dst = pair
        sku = self.skus[i]
        try:
            t = transfers.ship_transfer(self.app, src, dst, {sku: qty}, actor=ME)
        except InsufficientStock:
            assert self.model[sku, src].available < qty
            return
        self.model[sku, src].on_hand -= qty
        self.model[sku, dst].incoming += qty
        self.open_transfers[t.id] = (sku, src, dst, qty)

    # Draws never depend on the state: after a concurrent batch the state depends on timing,
    # and Hypothesis must be able to replay the same draws.
    @rule(pick=st.integers(0, 1_000), share=st.integers(1, 100), cancel=st.booleans())
    def settle(self, pick: int, share: int, cancel: bool) -> None:
        if not self.open_transfers:
            return
        transfer_id = sorted(self.open_transfers)[pick % len(self.open_transfers)]
        sku, src, dst, left = self.open_transfers[transfer_id]
        if cancel:
            transfers.cancel_transfer(self.app, transfer_id, actor=ME)
            self.model[sku, src].on_hand += left
            self.model[sku, dst].incoming -= left
            del self.open_transfers[transfer_id]
            return
        part = max(1, left * share // 100)
        transfers.receive_transfer(self.app, transfer_id, {sku: part}, actor=ME)
        self.model[sku, dst].on_hand += part
        self.model[sku, dst].incoming -= part
        if part == left:
            del self.open_transfers[transfer_id]
        else:
            self.open_transfers[transfer_id] = (sku, src, dst, left - part)

    @rule(data=st.data())
    def concurrently(self, data: st.DataObject) -> None:
        ops = data.draw(st.lists(_operation(self.app, self.skus), min_size=4, max_size=16))
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(self._refused, ops))
        self._reload_model()

    def _reload_model(self) -> None:
        """After a concurrent batch the order is unknown: take the stored state as truth."""
        for sku in self.skus:
            for loc, state in stock.stock_of(self.app, sku):
                self.model[sku, loc] = Level(state.on_hand, state.incoming, dict(state.unavailable))
        self.open_transfers = {
            t.id: (t.lines[0].sku, t.source, t.destination, t.lines[0].in_transit)
            for t in transfers.list_transfers(self.app, limit=10_000)
            if t.lines[0].sku in self.skus and t.lines[0].in_transit
        }

    @invariant()
    def ledger_is_sound(self) -> None:
        report = verify(self.app)
        assert report.differences == []
        assert report.invariant_violations == []

    @invariant()
    def balances_match_the_model(self) -> None:
        for sku in self.skus:
            stored = {loc: s for loc, s in stock.stock_of(self.app, sku)}
            for loc in LOCATIONS:
                want = self.model[sku, loc]
                got = stored.get(loc)
                if got is None:
                    assert (want.on_hand, want.incoming, want.available) == (0, 0, 0)
                    continue
                assert (got.on_hand, got.incoming, got.available, got.committed) == (
                    want.on_hand,
                    want.incoming,
                    want.available,
                    0,
                )
                assert got.unavailable == want.unavailable


@pytest.mark.slow
def test_random_operation_sequences_keep_the_ledger_sound(app: Services) -> None:
    for code in LOCATIONS:
        catalog.add_location(app, code, f"location {code}", "warehouse")
    run_state_machine_as_test(
        lambda: LedgerMachine(app),
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
