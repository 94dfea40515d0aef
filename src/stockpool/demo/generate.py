"""`generate`: write the demo brand and its two years of history into an empty store.

The layout (locations, zones, channels, suppliers), the catalog and the whole history are
written in one transaction, the history in bulk (see `ledger`); then the allocation rules
are set through the rules service (audited like any other change) and every listing's
available-to-sell is computed. The same seed, size and clock give the same data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from stockpool.demo.brand import Catalog, draw_catalog
from stockpool.demo.calendar import black_friday, seasons
from stockpool.demo.handling_records import write_handling
from stockpool.demo.history import LOOKAHEAD_DAYS, History, simulate
from stockpool.demo.layout import CHANNELS, LOCATIONS, RULES, SUPPLIERS, ZONE_DISTANCES
from stockpool.demo.ledger import Keys, write_levels, write_purchases
from stockpool.demo.order_records import write_orders
from stockpool.demo.writer import core_rows, id_map
from stockpool.domain.catalog import Location, LocationKind
from stockpool.domain.channels import ChannelKind, SalesChannel
from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import ChannelCode, LocationCode
from stockpool.domain.purchasing import Supplier, SupplierCode
from stockpool.domain.rules import RuleLevel
from stockpool.services.ats import recompute_all
from stockpool.services.context import Services
from stockpool.services.rules import RulePlace, add_event, set_rule
from stockpool.store.allocation_tables import bundle_components, bundles, channels, listings
from stockpool.store.channels import add_missing_ats_rows
from stockpool.store.engine import check_references_at_commit
from stockpool.store.purchasing_tables import supplier_items, suppliers
from stockpool.store.tables import items, locations
from stockpool.store.uow import SqlUnitOfWork

ACTOR = "demo"


class StoreNotEmpty(InvalidInput):
    """The demo is only written into a store with no items, locations or channels yet."""


@dataclass(frozen=True)
class DemoSummary:
    """What was generated."""

    items: int
    bundles: int
    listings: int
    days: int
    orders: dict[str, int]
    units_sold: int
    lost_units: int
    stockout_level_days: int
    purchase_orders: int
    open_purchase_orders: int
    returned_units: int
    returned_damaged: int
    damaged_in_handling: int
    written_off: int
    transfers: int
    open_transfers: int
    black_fridays: list[date]
    seconds: float


def is_empty(app: Services) -> bool:
    """Whether the store has no items, locations or channels."""
    with app.uow() as uow:
        connection = _connection(uow)
        return all(
            connection.execute(select(func.count()).select_from(t)).scalar_one() == 0
            for t in (items, locations, channels)
        )


def _connection(uow: object) -> Connection:
    if not isinstance(uow, SqlUnitOfWork):
        raise InvalidInput("the demo is written through the SQL store")
    return uow.connection


def _layout(uow: SqlUnitOfWork, now: datetime) -> None:
    for spec in LOCATIONS:
        location = Location(
            LocationCode(spec.code), spec.name, LocationKind(spec.kind), spec.zone, spec.priority
        )
        uow.catalog.add_location(location, at=now)
    for a, b, distance in ZONE_DISTANCES:
        uow.orders.set_zone_distance((min(a, b), max(a, b)), distance)
    for c in CHANNELS:
        channel = SalesChannel(
            ChannelCode(c.code), c.name, ChannelKind(c.kind), f"{c.code}-main", c.priority,
            Decimal(c.fee_rate), frozenset(LocationCode(x) for x in c.locations),
        )  # fmt: skip
        uow.channels.add_channel(channel, at=now)
        uow.channels.update_channel(ChannelCode(c.code), {"sourcing": c.sourcing}, at=now)
    for s in SUPPLIERS:
        supplier = Supplier(SupplierCode(s.code), s.name, "USD", s.lead_time_days)
        uow.purchasing.add_supplier(supplier, at=now)


def _catalog(connection: Connection, catalog: Catalog, now: datetime) -> Keys:
    stamp = {"created_at": now, "updated_at": now}
    core_rows(connection, items, [
        {"sku": sku, "title": catalog.titles[n], "barcode": f"{850_000_000_000 + n * 7:012d}",
         "unit_cost": Decimal(str(catalog.costs[n])), "price": Decimal(str(catalog.prices[n])),
         "tags": catalog.tags[n], **stamp}
        for n, sku in enumerate(catalog.skus)
    ])  # fmt: skip
    item_ids = id_map(connection, items, "sku")
    core_rows(connection, bundles, [{"sku": s, "title": t, **stamp} for s, t, _ in catalog.bundles])
    bundle_ids = id_map(connection, bundles, "sku")
    core_rows(connection, bundle_components, [
        {"bundle_id": bundle_ids[s], "component_sku": catalog.skus[i], "quantity": q}
        for s, _, parts in catalog.bundles for i, q in parts
    ])  # fmt: skip
    channel_ids = id_map(connection, channels, "code")
    rows = []
    for code, found in catalog.listings.items():
        for listing_id, channel_sku, target, units in found:
            is_bundle = isinstance(target, str)
            rows.append({
                "channel_id": channel_ids[code], "listing_id": listing_id,
                "channel_sku": channel_sku, "units": units, "created_at": now,
                "item_id": None if is_bundle else item_ids[catalog.skus[int(target)]],
                "bundle_id": bundle_ids[str(target)] if is_bundle else None,
            })  # fmt: skip
    core_rows(connection, listings, rows)
    add_missing_ats_rows(connection)
    supplier_ids = id_map(connection, suppliers, "code")
    core_rows(connection, supplier_items, [
        {"supplier_id": supplier_ids[catalog.suppliers[n]], "item_id": item_ids[sku],
         "unit_cost": Decimal(str(catalog.costs[n])), "moq": catalog.case_packs[n],
         "case_pack": catalog.case_packs[n], "lead_time_days": None, "updated_at": now}
        for n, sku in enumerate(catalog.skus)
    ])  # fmt: skip
    location_ids = id_map(connection, locations, "code")
    return Keys(
        [item_ids[s] for s in catalog.skus],
        [location_ids[x.code] for x in LOCATIONS],
        [channel_ids[x.code] for x in CHANNELS],
        [supplier_ids[x.code] for x in SUPPLIERS],
    )


def _rules(app: Services, now: datetime) -> None:
    for level, target, channel, settings, why in RULES:
        place = RulePlace(RuleLevel(level), target, channel)
        set_rule(app, place, dict(settings), actor=ACTOR, reason=why)
    friday = black_friday(now.year if now.date() <= black_friday(now.year) else now.year + 1)
    name = f"bfcm-{friday.year}"
    start = datetime(friday.year, friday.month, friday.day, tzinfo=now.tzinfo)
    add_event(app, name, start - timedelta(days=1), start + timedelta(days=4))
    set_rule(
        app,
        RulePlace(RuleLevel.CHANNEL, None, "ebay", name),
        {"maximum": 10},
        actor=ACTOR,
        reason="Black Friday to Cyber Monday: let eBay show a little more",
    )


def _write(
    app: Services, catalog: Catalog, history: History, rng: np.random.Generator, *, days: int
) -> tuple[dict[str, int], int, int]:
    now = app.clock()
    start = int(datetime(*(now.date() - timedelta(days=days)).timetuple()[:3],
                         tzinfo=now.tzinfo).timestamp())  # fmt: skip
    with app.uow() as uow:
        assert isinstance(uow, SqlUnitOfWork)
        check_references_at_commit(uow.connection)  # the levels come last, from the ledger
        _layout(uow, now)
        keys = _catalog(uow.connection, catalog, now)
        ledger = write_orders(
            uow.connection, catalog, history, keys, start=start, now=int(now.timestamp()), rng=rng
        )
        still_open = write_purchases(
            uow.connection, catalog, history, keys, ledger, start=start, days=days
        )
        in_transit = write_handling(uow.connection, history, keys, ledger, start=start, days=days)
        write_levels(uow.connection, history, keys, ledger)
        uow.channels.bump_config()
        uow.commit()
    return ledger.orders_per_channel, still_open, in_transit


def _counts(history: History, *, in_transit: int) -> dict[str, int]:
    """What the history holds: units sold and lost, empty level-days, purchase orders,
    units returned (and damaged of them), damaged in handling and written off, transfers."""
    handling = history.handling
    units = [
        sum(q for _, q in history.groups[r.group].components[r.member]) for r in handling.returns
    ]
    return {
        "units_sold": int(history.sales["quantity"].sum()),
        "lost_units": int(history.lost_units.sum()),
        "stockout_level_days": int(history.empty_levels.sum()),
        "purchase_orders": len(history.purchase_orders),
        "returned_units": sum(r.quantity * u for r, u in zip(handling.returns, units, strict=True)),
        "returned_damaged": sum(
            r.damaged * u for r, u in zip(handling.returns, units, strict=True)
        ),
        "damaged_in_handling": sum(int(e.quantities.sum()) for e in handling.damage),
        "written_off": sum(int(e.quantities.sum()) for e in handling.write_offs),
        "transfers": len(handling.transfers),
        "open_transfers": in_transit,
    }


def _check(app: Services, *, items_count: int, days: int) -> None:
    if items_count < 50 or days < 28:
        raise InvalidInput("the demo needs at least 50 items and 28 days of history")
    if not is_empty(app):
        raise StoreNotEmpty("the store is not empty: the demo is only written into a new store")


def generate(
    app: Services,
    *,
    seed: int = 7,
    items_count: int = 2000,
    days: int = 730,
    progress: Callable[[str], Any] | None = None,
) -> DemoSummary:
    """Write the demo brand with `days` days of history ending today into an empty store.

    Raises:
        StoreNotEmpty: the store already has items, locations or channels.
    """
    _check(app, items_count=items_count, days=days)
    began = time.perf_counter()
    say = progress or (lambda _: None)
    rng = np.random.default_rng(seed)
    now = app.clock()
    say(f"drawing {items_count} items and simulating {days} days")
    catalog = draw_catalog(rng, items_count)
    season = seasons(rng, now.date() - timedelta(days=days), days + LOOKAHEAD_DAYS)
    history = simulate(catalog, season, rng, days)
    say("writing the catalog and the ledger")
    per_channel, still_open, in_transit = _write(app, catalog, history, rng, days=days)
    say("setting allocation rules and computing available-to-sell")
    _rules(app, now)
    recompute_all(app)
    return DemoSummary(
        items=len(catalog.skus),
        bundles=len(catalog.bundles),
        listings=sum(len(x) for x in catalog.listings.values()),
        days=days,
        orders=per_channel,
        open_purchase_orders=still_open,
        **_counts(history, in_transit=in_transit),
        black_fridays=[d for d in season.black_fridays if d < now.date()],
        seconds=time.perf_counter() - began,
    )
