"""The compiled allocation plan: catalog, channels and rules resolved at one instant.

Compiling resolves every listing's rules, which is the slow part of allocation; stock
changes only need the compiled plan. A plan stays valid until the allocation configuration
changes (its version in the database) or until the next instant at which an event profile
or a protection window opens or closes. Each process keeps its own plan and checks the
version once per unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from threading import Lock
from typing import cast

from stockpool.domain.allocation import (
    AllocationPlan,
    Channel,
    ListingKey,
    PlannedListing,
    plan_allocation,
)
from stockpool.domain.channels import ListingRef
from stockpool.domain.ids import ChannelCode, Sku
from stockpool.domain.rules import ResolvedRules, RuleBook, RuleLevel
from stockpool.services.bulk_work import collector_paused, settle_long_lived
from stockpool.services.ports import UnitOfWork


@dataclass(frozen=True)
class CompiledPlan:
    """An allocation plan and what maps it back to stored listings.

    The plan's listings come in the order of their stored row ids, so a full recompute walks
    them beside the stored values without a lookup per listing.
    """

    version: int
    at: datetime
    valid_until: datetime | None
    plan: AllocationPlan

    @cached_property
    def listings(self) -> dict[ListingKey, ListingRef]:
        """Every listing by (channel, listing id)."""
        return {entry.key: cast(ListingRef, entry.listing) for entry in self.plan.listings}

    @cached_property
    def planned(self) -> dict[ListingKey, PlannedListing]:
        """Every planned listing (of an item or a bundle) by (channel, listing id)."""
        return {entry.key: entry for entry in self.plan.listings}

    @cached_property
    def row_ids(self) -> list[int]:
        """The stored row id of each of the plan's listings, in plan order."""
        return [cast(ListingRef, entry.listing).row_id for entry in self.plan.listings]

    def usable(self, version: int, now: datetime) -> bool:
        """Whether the plan still describes the configuration at `now`."""
        if version != self.version or now < self.at:
            return False
        return self.valid_until is None or now < self.valid_until

    def depends_on(self, skus: Iterable[Sku]) -> set[Sku]:
        """The items whose stock the listings depending on `skus` need."""
        plan = self.plan
        needed: set[Sku] = set()
        for sku in skus:
            if sku in plan.singles:
                needed.add(sku)
            for entry in plan.bundled_by_item.get(sku, ()):
                needed.update(component for component, _ in entry.components)
        return needed


def next_boundary(book: RuleBook, now: datetime) -> datetime | None:
    """The first instant after `now` at which an event or a protection window changes."""
    moments = [m for e in book.events for m in (e.start, e.end)]
    rules = [*book.rules, *(r for e in book.events for r in e.rules)]
    moments += [m for r in rules for m in (r.protect_start, r.protect_end) if m is not None]
    later = [m for m in moments if m > now]
    return min(later) if later else None


def _rule_targets(
    book: RuleBook,
) -> tuple[
    dict[str, set[ChannelCode]], dict[str, set[ChannelCode]], set[tuple[str | None, str | None]]
]:
    """Which channels have rules for which SKUs and tags, and which listings have rules.

    Only (channel, SKU) pairs named by a SKU, tag or listing rule need their own resolution;
    everything else takes its channel's defaults, resolved once.
    """
    by_sku: dict[str, set[ChannelCode]] = {}
    by_tag: dict[str, set[ChannelCode]] = {}
    by_listing: set[tuple[str | None, str | None]] = set()
    for r in [*book.rules, *(r for e in book.events for r in e.rules)]:
        if r.level is RuleLevel.SKU and r.channel is not None:
            by_sku.setdefault(r.target or "", set()).add(r.channel)
        elif r.level is RuleLevel.TAG and r.channel is not None:
            by_tag.setdefault(r.target or "", set()).add(r.channel)
        elif r.level is RuleLevel.LISTING:
            by_listing.add((r.channel, r.target))
    return by_sku, by_tag, by_listing


def compile_plan(uow: UnitOfWork, now: datetime, *, book: RuleBook | None = None) -> CompiledPlan:
    """Read the configuration and resolve every rule at `now` (or with `book` instead)."""
    with collector_paused():  # one tuple per listing, hundreds of thousands, all kept
        compiled = _compile(uow, now, book)
    settle_long_lived()
    return compiled


def _compile(uow: UnitOfWork, now: datetime, book: RuleBook | None) -> CompiledPlan:
    version = uow.channels.config_version()
    book = uow.rules.rule_book() if book is None else book
    snapshot = book.at(now)
    channels = [
        Channel(c.code, c.priority, c.eligible_locations) for c in uow.channels.list_channels()
    ]
    known = {c.code for c in channels}
    rows = uow.channels.plan_listings()  # those of active channels: the ones in `channels`
    tags = uow.channels.item_tags()
    bundles = uow.channels.bundles()
    by_sku, by_tag, by_listing = _rule_targets(book)

    special = {Sku(sku): set(found) for sku, found in by_sku.items()}
    for sku, item_tags in tags.items():
        for tag in item_tags:
            if tag in by_tag:
                special.setdefault(sku, set()).update(by_tag[tag])

    channel_rules = {c.code: snapshot.resolve(c.code) for c in channels}
    listing_rules: dict[ListingKey, ResolvedRules] = {}
    named_ids = {listing_id for _, listing_id in by_listing}
    for x in rows:  # the listings whose SKU, tags or own id have rules of their channel
        found = special.get(x.sku)
        if (found is not None and x.channel in found) or (
            x.listing_id in named_ids and (x.channel, x.listing_id) in by_listing
        ):
            listing_rules[(x.channel, x.listing_id)] = snapshot.resolve(
                x.channel, sku=x.sku, listing=x.listing_id, tags=tags.get(x.sku, ())
            )
    # Protection and eligible locations are per item: resolved for each item with rules of
    # its own (an item without listings gets settings the plan never reads).
    item_rules: dict[tuple[ChannelCode, Sku], ResolvedRules] = {
        (code, sku): snapshot.resolve(code, sku=sku, tags=tags.get(sku, ()))
        for sku, found in special.items()
        if sku not in bundles
        for code in found & known
    }
    plan = plan_allocation(
        channels,
        rows,
        bundles=bundles,
        item_rules=item_rules,
        listing_rules=listing_rules,
        channel_rules=channel_rules,
    )
    return CompiledPlan(
        version=version,
        at=now,
        valid_until=next_boundary(book, now),
        plan=plan,
    )


class PlanCache:
    """The process's compiled plan, recompiled when stale."""

    def __init__(self) -> None:
        self._plan: CompiledPlan | None = None
        self._lock = Lock()

    def get(self, uow: UnitOfWork, now: datetime) -> CompiledPlan:
        """A plan valid for the configuration `uow` sees, at `now`.

        The configuration version is read once per unit of work: a use case that asks
        several times (reserve, then recompute) gets the same plan without another query.
        """
        memo = uow.memo.get(self)
        if isinstance(memo, CompiledPlan) and memo.usable(memo.version, now):
            return memo
        version = uow.channels.config_version()
        plan = self._plan
        if plan is None or not plan.usable(version, now):
            with self._lock:
                plan = compile_plan(uow, now)
                if plan.version == version:
                    self._plan = plan
        uow.memo[self] = plan
        return plan

    def clear(self) -> None:
        """Forget the compiled plan."""
        self._plan = None
