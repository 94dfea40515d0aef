"""Random interleavings of everything that moves stock or sync, against the fake Shopify.

Steps: our own orders on `web` (check-and-reserve and ingest), the fake's own customers
buying (its count drops before we hear of it) and the merchant cancelling (it restocks at
once), receipts, worker rounds, webhook deliveries with duplicates / delays / reorders /
drops, catch-up polls, reconciliation, throttling (an empty cost bucket, 429) and failures
(503, 500, resets).

The model keeps, per item, the units we have that nobody sold (`left`) and a bound on how
far the fake may show more than that: at a quiet point it is what the fake shows less what
we have; each `web` sale adds to it (the fake cannot know yet), each receipt takes from it;
a push may reset it to what the fake should show (our ATS: what we have less the buffer,
or 0). After every step the fake shows no more than `left` plus that bound: a push never
re-inflates the fake with units it sold before we heard of them. So the fake sells a unit
we do not have only when `web` sold more than the buffer since it was last told the truth.
When quiet (held webhooks delivered, a catch-up poll, the outbox drained): every listing on
the fake equals our stored ATS, and every Shopify order is recorded exactly once, with the
fake's current quantities.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from stockpool.bootstrap import Settings, build_services
from stockpool.channels.errors import ChannelError
from stockpool.domain.orders import NotificationKind, OrderRefused
from stockpool.services import orders, stock, sync
from stockpool.services.context import Services
from stockpool.store.allocation_tables import channels
from stockpool.store.order_tables import order_lines
from stockpool.store.order_tables import orders as order_rows
from stockpool.sync.dispatcher import reconcile_channel
from tests.conftest import FakeClock, PostgresServer
from tests.integration.sync_harness import ITEMS, LOC, ME, Rig

BUFFER = 2
STOCK = 6
SKUS = tuple(ITEMS)
QUIET_ROUNDS = 30
_examples = itertools.count()


@dataclass
class Model:
    """What happened, per SKU: units received, sold on `web`, sold by the fake; and how far
    the fake may show more than we have (`over`, see the module docstring)."""

    received: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SKUS, STOCK))
    web: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SKUS, 0))
    web_since_quiet: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SKUS, 0))
    over: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SKUS, 0))
    fake_orders: dict[str, dict[str, int]] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)
    short_at_quiet: bool = False
    oversold: bool = False

    def fake_sold(self, sku: str) -> int:
        return sum(
            lines.get(sku, 0)
            for gid, lines in self.fake_orders.items()
            if gid not in self.cancelled
        )

    def left(self, sku: str) -> int:
        """Units we have that nobody sold."""
        return self.received[sku] - self.web[sku] - self.fake_sold(sku)

    def sold_on_web(self, sku: str, quantity: int) -> None:
        self.web[sku] += quantity
        self.web_since_quiet[sku] += quantity
        self.over[sku] += quantity

    def pushed(self) -> None:
        """A push may have set the fake to our ATS: max(0, left - buffer) (or 0)."""
        for sku in SKUS:
            self.over[sku] = max(self.over[sku], -self.left(sku), -BUFFER)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self, fresh: Callable[[], tuple[Services, FakeClock, Callable[[], None]]]):
        super().__init__()
        app, clock, self._dispose = fresh()
        self.rig = Rig(app, clock, stock_each=STOCK, buffer=BUFFER)
        self.model = Model()
        self._numbers = itertools.count(1)
        self.quiet()

    def _worker(self, step: Callable[..., object]) -> bool:
        """A worker call; a channel failure it lets through is the channel's, not a bug.
        Returns whether it got through."""
        try:
            self.rig.run(step)  # type: ignore[arg-type]
        except ChannelError:
            return False
        return True

    # -- our side ------------------------------------------------------------------------

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 3))
    def our_order(self, sku: str, quantity: int) -> None:
        try:
            self.rig.our_order(sku, quantity)
        except OrderRefused:
            return
        self.model.sold_on_web(sku, quantity)
        self.model.oversold |= self.model.left(sku) < 0

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 2))
    def web_order_ingested(self, sku: str, quantity: int) -> None:
        if self.model.left(sku) < quantity:
            return  # `web` sold only what there was; overselling here is not sync's doing
        note = orders.Notification(
            NotificationKind.CREATE,
            "web",
            f"web-in-{next(self._numbers)}",
            self.rig.clock(),
            tuple(orders.line_requests([(f"W-{sku}", quantity)])),
        )
        orders.ingest(self.rig.app, note, actor=ME)
        self.model.sold_on_web(sku, quantity)

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 4))
    def receive(self, sku: str, quantity: int) -> None:
        stock.receive(self.rig.app, sku, "WH1", quantity, actor=ME)
        self.model.received[sku] += quantity
        self.model.over[sku] -= quantity

    # -- the fake shop's side ------------------------------------------------------------

    @rule(lines=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 3), min_size=1, max_size=2))
    def shopify_customer_buys(self, lines: dict[str, int]) -> None:
        before = {sku: self.model.left(sku) for sku in lines}
        order = self.rig.fake.sell([(ITEMS[s], q) for s, q in sorted(lines.items())], LOC)
        if order is None:
            return
        self.model.fake_orders[order.gid] = dict(lines)
        for sku, quantity in lines.items():
            if before[sku] < quantity:
                self.model.oversold = True
                assert self.model.web_since_quiet[sku] > BUFFER or self.model.short_at_quiet, (
                    f"the fake sold {quantity} {sku} with {before[sku]} left, and web sold "
                    f"only {self.model.web_since_quiet[sku]} since the last quiet point"
                )

    @rule(pick=st.integers(0, 1_000))
    def merchant_cancels(self, pick: int) -> None:
        live = sorted(set(self.model.fake_orders) - self.model.cancelled)
        if not live:
            return
        gid = live[pick % len(live)]
        self.rig.fake.cancel(gid)
        self.model.cancelled.add(gid)

    @rule(
        duplicate=st.sampled_from([0.0, 0.5, 1.0]),
        drop=st.sampled_from([0.0, 0.5, 1.0]),
        delay=st.sampled_from([0.0, 0.5]),
        reorder=st.booleans(),
    )
    def webhooks_are_sent(self, duplicate: float, drop: float, delay: float, reorder: bool) -> None:
        chaos = self.rig.fake.chaos
        chaos.duplicate, chaos.drop, chaos.delay, chaos.reorder = duplicate, drop, delay, reorder
        self.rig.deliver_webhooks()

    @rule(trouble=st.sampled_from(["bucket", "429", "503", "500", "reset", "time"]))
    def channel_trouble(self, trouble: str) -> None:
        """The cost bucket runs dry, the API fails, or time passes (backoffs expire)."""
        if trouble == "bucket":
            self.rig.fake.bucket.available = 0
            self.rig.fake.bucket.at = self.rig.clock()
        elif trouble == "time":
            self.rig.clock.advance(seconds=61)
        else:
            self.rig.fake.fail_next(trouble, times=2, value=2.0)

    # -- the sync engine -----------------------------------------------------------------

    @rule()
    def push_round(self) -> None:
        self._worker(lambda w: w.push_once())
        self.model.pushed()

    @rule()
    def push_until_idle(self) -> None:
        self._worker(lambda w: w.drain(rounds=20))
        self.model.pushed()

    @rule()
    def webhooks_are_processed(self) -> None:
        self._worker(lambda w: w.process_webhooks())

    @rule()
    def orders_are_polled(self) -> None:
        self._worker(lambda w: w.catch_up())

    @rule(heal=st.booleans())
    def reconciliation(self, heal: bool) -> None:
        self._worker(lambda w: reconcile_channel(w, heal=heal))

    @rule()
    def quiet(self) -> None:
        """Let everything settle, check the quiet state, and start a new window."""
        rig = self.rig
        for _ in range(QUIET_ROUNDS):
            rig.deliver_webhooks(everything=True)
            self._worker(lambda w: w.process_webhooks())
            polled = self._worker(lambda w: w.catch_up())
            self._worker(lambda w: w.drain(rounds=50))
            idle = polled and not sync.pending_deliveries(rig.app, "shopify")
            if idle and sync.status(rig.app)[0].queue_depth == 0:
                break
            rig.clock.advance(seconds=61)
        [health] = sync.status(rig.app)
        assert health.queue_depth == 0, "the outbox did not drain"
        self.check_quiet()
        model = self.model
        model.web_since_quiet = dict.fromkeys(SKUS, 0)
        model.over = {s: rig.fake.available(i, LOC) - model.left(s) for s, i in ITEMS.items()}
        model.short_at_quiet = any(model.left(s) < 0 for s in SKUS)

    def check_quiet(self) -> None:
        assert self.rig.on_fake() == self.rig.ats()
        if not self.model.oversold:
            want = {f"S-{s}": max(0, self.model.left(s) - BUFFER) for s in SKUS}
            assert self.rig.ats() == want
        recorded = self.shopify_orders()
        for gid, lines in self.model.fake_orders.items():
            current = {} if gid in self.model.cancelled else lines
            assert recorded.get(gid) == (1, current), gid
        assert set(recorded) == set(self.model.fake_orders)

    def shopify_orders(self) -> dict[str, tuple[int, dict[str, int]]]:
        """Per external id of `shop`: how many orders we hold, and their units per SKU."""
        o, line = order_rows, order_lines
        shop = select(channels.c.id).where(channels.c.code == "shop").scalar_subquery()
        with self.rig.app.uow() as uow:
            counts = uow.connection.execute(  # type: ignore[attr-defined]
                select(o.c.external_id, func.count())
                .where(o.c.channel_id == shop)
                .group_by(o.c.external_id)
            ).all()
            units = uow.connection.execute(  # type: ignore[attr-defined]
                select(o.c.external_id, line.c.sku, line.c.quantity - line.c.cancelled)
                .join(line, line.c.order_id == o.c.id)
                .where(o.c.channel_id == shop)
            ).all()
        found: dict[str, tuple[int, dict[str, int]]] = {gid: (n, {}) for gid, n in counts}
        for gid, sku, quantity in units:
            if quantity:
                found[gid][1][sku] = found[gid][1].get(sku, 0) + int(quantity)
        return found

    @invariant()
    def the_fake_shows_no_more_than_it_may(self) -> None:
        for sku, item in ITEMS.items():
            shown = self.rig.fake.available(item, LOC)
            assert shown <= max(0, self.model.left(sku) + self.model.over[sku]), (
                sku,
                shown,
                self.model,
            )

    def teardown(self) -> None:
        try:
            self.quiet()
        finally:
            self._dispose()


@pytest.fixture
def fresh(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[[], tuple[Services, FakeClock, Callable[[], None]]]:
    """Services on a new database for each example, cloned from this test's fresh one."""
    server: PostgresServer | None = None
    if database_url.startswith("postgresql"):
        server = request.getfixturevalue("pg_server")
    template = database_url.rsplit("/", 1)[1]

    def make() -> tuple[Services, FakeClock, Callable[[], None]]:
        n = next(_examples)
        if server is None:
            path = tmp_path / f"example-{n}.db"
            shutil.copyfile(database_url.removeprefix("sqlite:///"), path)
            url = f"sqlite:///{path}"
        else:
            url = server.create(f"{template}_x{n}", template=template)
        clock = FakeClock()
        built = build_services(Settings(database_url=url, data_dir=tmp_path))
        app = Services(uow=built.uow, clock=clock)

        def dispose() -> None:
            built.uow.engine.dispose()  # type: ignore[attr-defined]
            if server is not None:
                server.drop(f"{template}_x{n}")

        return app, clock, dispose

    return make


@pytest.mark.slow
def test_random_interleavings_keep_shopify_in_step_and_never_oversell(
    fresh: Callable[[], tuple[Services, FakeClock, Callable[[], None]]],
) -> None:
    run_state_machine_as_test(
        lambda: SyncMachine(fresh),
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
