"""Use cases of available-to-sell: keep stored ATS current, recompute, show and explain.

After a stock change of item i, exactly the listings that depend on i (its own listings,
multipacks included, and every bundle that contains it, however deep) are recomputed in the
same transaction; a listing whose ATS changes is stored with a higher version.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime

from stockpool.domain.allocation import RuleConflict, compute_ats_values
from stockpool.domain.errors import NotFound
from stockpool.domain.explanation import ExplanationStep, ListingAts, compute_ats
from stockpool.domain.ids import ChannelCode, ListingId, Sku
from stockpool.domain.reservation import listings_depending_on, zero_oversold
from stockpool.services.allocation_plan import CompiledPlan, compile_plan, next_boundary
from stockpool.services.bulk_work import collector_paused
from stockpool.services.context import Services
from stockpool.services.events import publish, recompute_events
from stockpool.services.ports import UnitOfWork


@dataclass(frozen=True)
class RefreshResult:
    """What a recompute did: the listings it computed, and listing -> (new ATS, new version)
    for those whose ATS changed."""

    computed: AbstractSet[tuple[ChannelCode, ListingId]]
    changed: dict[tuple[ChannelCode, ListingId], tuple[int, int]]


def store_values(
    uow: UnitOfWork,
    app: Services,
    compiled: CompiledPlan,
    values: dict[tuple[ChannelCode, ListingId], int],
) -> RefreshResult:
    """Store the ATS values that differ from the stored ones, bumping their versions."""
    # Rows are compared and written in id order, so that concurrent recomputes never lock
    # them crosswise.
    if len(values) > _WALK_ALL:
        rows = _changes_of_all(uow, compiled, values)
    else:
        rows = _changes_of_some(uow, compiled, values)
    now = app.clock()
    changes = [(row, ats, version) for row, _, ats, version in rows]
    uow.ats.store(changes, at=now)
    # The outbox: each changed value goes to its channel after this transaction commits.
    uow.sync.enqueue(changes, at=now)
    return RefreshResult(values.keys(), {key: (ats, version) for _, key, ats, version in rows})


_WALK_ALL = 20_000  # above this many values, walk every stored row beside the plan
Change = tuple[int, tuple[ChannelCode, ListingId], int, int]  # row, key, new ats, new version


def _changes_of_some(
    uow: UnitOfWork, compiled: CompiledPlan, values: dict[tuple[ChannelCode, ListingId], int]
) -> list[Change]:
    listings = compiled.listings
    ids = {listings[key].row_id: key for key in values}
    found = []
    for row, ats, version in uow.ats.stored_rows(ids):
        key = ids[row]
        if values[key] != ats:
            found.append((row, key, values[key], version + 1))
    return found


def _changes_of_all(
    uow: UnitOfWork, compiled: CompiledPlan, values: dict[tuple[ChannelCode, ListingId], int]
) -> list[Change]:
    """A merge of the plan's listings and every stored row, both in row id order."""
    stored = uow.ats.stored_rows(None)
    entries = compiled.plan.listings
    if compiled.row_ids == [row for row, _, _ in stored] and len(values) == len(entries):
        # The usual case, every stored row planned: a walk in step, no search.
        return [
            (row, entry.key, new, version + 1)
            for entry, (row, ats, version) in zip(entries, stored, strict=True)
            if (new := values[entry.key]) != ats
        ]
    found = []
    position, end, last = 0, len(stored), -1
    for entry in entries:
        row = entry.listing.row_id  # type: ignore[attr-defined]
        if row <= last:  # not in id order after all: compare listing by listing
            return _changes_of_some(uow, compiled, values)
        last = row
        while position < end and stored[position][0] < row:
            position += 1
        if position == end:
            break
        value = values.get(entry.key)
        if stored[position][0] == row and value is not None and value != stored[position][1]:
            found.append((row, entry.key, value, stored[position][2] + 1))
    return found


def refresh_listings(
    uow: UnitOfWork,
    app: Services,
    skus: Iterable[Sku] | None,
    *,
    compiled: CompiledPlan | None = None,
) -> RefreshResult:
    """Recompute, in `uow`, the listings that depend on `skus` (every listing if None)."""
    now = app.clock()
    compiled = compiled or app.plans.get(uow, now)
    if skus is None:
        available = uow.ats.available(None)
        values = compute_ats_values(compiled.plan, available).values
        oversold = uow.orders.oversold_items(None)
    else:
        wanted = set(skus)
        needed = compiled.depends_on(wanted)
        if not needed:
            return RefreshResult(frozenset(), {})
        # Items locked and changed by this unit of work need not be read again.
        known = uow.stock.known_available(needed)
        available = uow.ats.available(needed) if known is None else known
        values = compute_ats_values(compiled.plan, available, items=wanted).values
        oversold = uow.orders.oversold_items(needed)
    if oversold:
        values = zero_oversold(compiled.plan, values, oversold)
    return store_values(uow, app, compiled, values)


def prefetch_stored(uow: UnitOfWork, app: Services, skus: Iterable[Sku]) -> None:
    """Send ahead the read of the stored ATS of the listings depending on `skus`, which a
    recompute of any of them compares with (see `AtsRepository.prefetch`)."""
    compiled = app.plans.get(uow, app.clock())
    listings = compiled.listings
    uow.ats.prefetch({listings[key].row_id for key in listings_depending_on(compiled.plan, skus)})


def next_change_at(app: Services) -> datetime | None:
    """When an event profile or a protection window next opens or closes."""
    with app.uow() as uow:
        return next_boundary(uow.rules.rule_book(), app.clock())


def recompute_all(app: Services) -> RefreshResult:
    """Recompute every listing's ATS and store the ones that changed.

    Run it when an event profile or protection window opens or closes (`stockpool ats watch`
    does so at each such instant), after a restore, or to check the stored values. The
    changes go on the event feed with it (`services.events.recompute_events`).
    """
    with app.uow() as uow, collector_paused():
        compiled = uow.memo[app.plans] = compile_plan(uow, app.clock())  # for the events too
        result = refresh_listings(uow, app, None, compiled=compiled)
        publish(uow, app, recompute_events(uow, app, result))
        uow.commit()
    return result


@dataclass(frozen=True)
class ExplainedSku:
    """The explained ATS of every listing of a SKU, with the protection conflicts met."""

    listings: list[ListingAts]
    conflicts: list[RuleConflict]


def show(app: Services, sku: str) -> ExplainedSku:
    """Every listing of an item or bundle on every channel, with its ATS explained."""
    with app.uow() as uow:
        if uow.channels.sku_kind(Sku(sku)) is None:
            raise NotFound(f"unknown SKU {sku!r}: neither an item nor a bundle")
        compiled = app.plans.get(uow, app.clock())
        keys = [k for k, x in compiled.listings.items() if x.sku == sku]
        return _explain(uow, compiled, keys)


def explain(app: Services, channel: str, listing: str) -> ExplainedSku:
    """One listing's ATS, explained step by step."""
    with app.uow() as uow:
        uow.channels.get_listing(ChannelCode(channel), ListingId(listing))
        compiled = app.plans.get(uow, app.clock())
        return _explain(uow, compiled, [(ChannelCode(channel), ListingId(listing))])


def _explain(
    uow: UnitOfWork, compiled: CompiledPlan, keys: list[tuple[ChannelCode, ListingId]]
) -> ExplainedSku:
    if not keys:
        return ExplainedSku([], [])
    leaves = {
        sku for entry in compiled.plan.listings if entry.key in keys for sku, _ in entry.components
    }
    available = uow.ats.available(leaves)
    result = compute_ats(compiled.plan, available, items=leaves)
    wanted = set(keys)
    found = {(x.channel, x.listing): x for x in result.listings if (x.channel, x.listing) in wanted}
    found = _with_oversold(compiled, found, uow.orders.oversold_items(leaves))
    return ExplainedSku(
        [found[k] for k in keys if k in found],
        sorted(set(result.conflicts), key=lambda c: (c.sku, c.channel)),
    )


def _with_oversold(
    compiled: CompiledPlan,
    found: dict[tuple[ChannelCode, ListingId], ListingAts],
    oversold: set[Sku],
) -> dict[tuple[ChannelCode, ListingId], ListingAts]:
    """Listings of oversold items show 0, with a last step saying why."""
    if not oversold:
        return found
    result = dict(found)
    for sku in sorted(oversold):
        for key in listings_depending_on(compiled.plan, [sku]) & set(found):
            x = result[key]
            step = ExplanationStep(
                "oversold", 0, f"{sku} has an open oversold exception (orders exceptions)", "order"
            )
            result[key] = replace(x, ats=0, explanation=(*x.explanation, step))
    return result
