"""Use cases of allocation rules and event profiles, with dry run and audit.

`set_rule` merges the given settings into the rule at one place (listing, SKU, tag, channel
default or global default; standing or in an event profile). A dry run computes the ATS of
every affected listing before and after without saving anything; a saved change is audited
(who, when, why, before, after) and recomputes the affected listings in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from stockpool.domain.allocation import compute_ats_values
from stockpool.domain.errors import InvalidInput, NotFound
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.rules import Rule, RuleBook, RuleLevel
from stockpool.services.allocation_plan import CompiledPlan, compile_plan
from stockpool.services.channels import commit_config_change
from stockpool.services.context import Services
from stockpool.services.ports import UnitOfWork

SETTINGS = (
    "protect",
    "protect_start",
    "protect_end",
    "buffer",
    "percent",
    "maximum",
    "floor",
    "eligible_locations",
)


@dataclass(frozen=True)
class RulePlace:
    """Where a rule applies: level, target (listing id, SKU or tag), channel and event."""

    level: RuleLevel
    target: str | None
    channel: str | None
    event: str | None = None


@dataclass(frozen=True)
class RuleChange:
    """A proposed or saved rule change and its effect on every affected listing."""

    before: Rule | None
    after: Rule | None
    saved: bool
    effect: list[tuple[str, str, int, int]]  # channel, listing, ATS before, ATS after


def place_for(
    *,
    channel: str | None,
    sku: str | None = None,
    tag: str | None = None,
    listing: str | None = None,
    event: str | None = None,
) -> RulePlace:
    """The place named by the options of `rule set` (at most one of sku, tag, listing)."""
    given = [(RuleLevel.SKU, sku), (RuleLevel.TAG, tag), (RuleLevel.LISTING, listing)]
    chosen = [(level, value) for level, value in given if value is not None]
    if len(chosen) > 1:
        raise InvalidInput("give at most one of --sku, --tag and --listing")
    if chosen:
        if channel is None:
            raise InvalidInput("a SKU, tag or listing rule needs --channel")
        return RulePlace(chosen[0][0], chosen[0][1], channel, event)
    if channel is None:
        return RulePlace(RuleLevel.GLOBAL, None, None, event)
    return RulePlace(RuleLevel.CHANNEL, None, channel, event)


def _parse(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "percent":
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise InvalidInput(f"percent must be a number within 0-100, got {value!r}") from None
    if name == "eligible_locations":
        return frozenset(LocationCode(c) for c in value)
    if name in ("protect_start", "protect_end"):
        if not isinstance(value, datetime):
            raise InvalidInput(f"{name} must be a date and time")
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be a whole number, got {value!r}")
    return value


def _merged(
    before: Rule | None, place: RulePlace, settings: dict[str, Any], clear: Iterable[str]
) -> Rule | None:
    base = before or Rule(place.level, place.target, _code(place.channel), event=place.event)
    for name in [*settings, *clear]:
        if name not in SETTINGS:
            raise InvalidInput(f"unknown rule setting {name!r}: one of {', '.join(SETTINGS)}")
    values = {name: _parse(name, value) for name, value in settings.items() if value is not None}
    for name in clear:
        values[name] = None
    merged = replace(base, **values)  # validates: InvalidRule names the field
    if all(getattr(merged, name) is None for name in SETTINGS):
        return None
    return merged


def _code(channel: str | None) -> ChannelCode | None:
    return None if channel is None else ChannelCode(channel)


def _check_place(uow: UnitOfWork, place: RulePlace, rule: Rule | None) -> None:
    if place.channel is not None:
        uow.channels.get_channel(ChannelCode(place.channel))
    if place.level is RuleLevel.SKU and uow.channels.sku_kind(Sku(place.target or "")) is None:
        raise NotFound(f"unknown SKU {place.target!r}")
    if place.level is RuleLevel.LISTING:
        uow.channels.get_listing(ChannelCode(place.channel or ""), ListingId(place.target or ""))
    if place.event is not None and place.event not in {e for e, _, _ in uow.rules.list_events()}:
        raise NotFound(f"unknown event profile {place.event!r}: add it with `stockpool event add`")
    for code in sorted(rule.eligible_locations or ()) if rule else ():
        uow.catalog.get_location(code)


def _affected(uow: UnitOfWork, place: RulePlace) -> set[Sku] | None:
    if place.level is RuleLevel.SKU:
        return {Sku(place.target or "")}
    if place.level is RuleLevel.TAG:
        return {sku for sku, tags in uow.channels.item_tags().items() if place.target in tags}
    if place.level is RuleLevel.LISTING:
        _, listing = uow.channels.get_listing(
            ChannelCode(place.channel or ""), ListingId(place.target or "")
        )
        return {listing.sku}
    return None


def _book_with(book: RuleBook, place: RulePlace, rule: Rule | None) -> RuleBook:
    def same(r: Rule) -> bool:
        return r.key == (place.level, place.target, _code(place.channel)) and r.event == place.event

    if place.event is None:
        rules = tuple(r for r in book.rules if not same(r)) + ((rule,) if rule else ())
        return RuleBook(rules, book.events)
    events = tuple(
        replace(e, rules=tuple(r for r in e.rules if not same(r)) + ((rule,) if rule else ()))
        if e.name == place.event
        else e
        for e in book.events
    )
    return RuleBook(book.rules, events)


def _effect(
    uow: UnitOfWork, app: Services, proposed: RuleBook, affected: set[Sku] | None
) -> tuple[list[tuple[str, str, int, int]], CompiledPlan]:
    """ATS before and after of every affected listing, and the plan of the proposal."""
    now = app.clock()
    old, new = app.plans.get(uow, now), compile_plan(uow, now, book=proposed)
    items = None if affected is None else _expand(uow, affected)
    available = uow.ats.available(None if items is None else new.depends_on(items))
    before = compute_ats_values(old.plan, available, items=items).values
    after = compute_ats_values(new.plan, available, items=items).values
    effect: list[tuple[str, str, int, int]] = [
        (c, lid, before.get((c, lid), 0), v) for (c, lid), v in sorted(after.items())
    ]
    return effect, new


def _expand(uow: UnitOfWork, skus: set[Sku]) -> set[Sku]:
    """Bundle SKUs stand for their leaf items (the engine recomputes by item)."""
    from stockpool.domain.allocation import flatten_bundle

    bundles = uow.channels.bundles()
    out: set[Sku] = set()
    for sku in skus:
        out.update(flatten_bundle(bundles[sku], bundles) if sku in bundles else (sku,))
    return out


def set_rule(
    app: Services,
    place: RulePlace,
    settings: dict[str, Any],
    *,
    clear: Iterable[str] = (),
    dry_run: bool = False,
    actor: str,
    reason: str = "",
) -> RuleChange:
    """Merge settings into the rule at `place`; preview with `dry_run`, else save and audit."""
    with app.uow() as uow:
        before = uow.rules.get_rule(place.level, place.target, _code(place.channel), place.event)
        after = _merged(before, place, settings, clear)
        _check_place(uow, place, after)
        affected = _affected(uow, place)
        book = uow.rules.rule_book()
        effect, proposed = _effect(uow, app, _book_with(book, place, after), affected)
        if dry_run:
            return RuleChange(before, after, False, effect)
        now = app.clock()
        if after is None:
            uow.rules.delete_rule(place.level, place.target, _code(place.channel), place.event)
        else:
            uow.rules.save_rule(after, at=now)
        scope = "|".join(
            (place.level.value, place.target or "", place.channel or "", place.event or "")
        )
        uow.rules.record_change(scope, before, after, actor=actor, reason=reason, at=now)
        items = None if affected is None else _expand(uow, affected)
        commit_config_change(uow, app, items, compiled=proposed)
    return RuleChange(before, after, True, effect)


def list_rules(app: Services) -> list[Rule]:
    """Every rule, standing and in event profiles."""
    with app.uow() as uow:
        return uow.rules.list_rules()


def rule_history(app: Services, *, limit: int = 50) -> list[dict[str, Any]]:
    """The newest rule changes first: who, when, why, before and after."""
    with app.uow() as uow:
        return uow.rules.changes(limit=limit)


def add_event(app: Services, name: str, start: datetime, end: datetime) -> None:
    """Create an event profile; its rules are set with `set_rule(..., event=name)`."""
    if not name.strip() or len(name) > 100:
        raise InvalidInput("an event profile needs a name of 1 to 100 characters")
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("event start and end need a time zone")
    if end <= start:
        raise InvalidInput("an event must end after it starts")
    with app.uow() as uow:
        uow.rules.add_event(name.strip(), start, end, at=app.clock())
        commit_config_change(uow, app, [])


def list_events(app: Services) -> list[tuple[str, datetime, datetime]]:
    """Every event profile by start."""
    with app.uow() as uow:
        return uow.rules.list_events()
