"""Allocation rules and how they resolve into the settings of one listing on one channel.

A rule sets some of the allocation settings (protection, buffer, percent, maximum, floor,
eligible locations) at one level: a listing on a channel, a SKU on a channel, a tag on a
channel, a channel default, or the global default. Settings resolve field by field: for each
field the most specific level that sets it wins, so a listing rule that only caps the quantity
still inherits the buffer of its channel.

An event profile (BFCM, Prime Day) is a named set of rules with a start and an end. While it
is active, its rule for a given level, target and channel wins over the standing rule for the
same level, target and channel; when it ends, the standing rules apply again by themselves.

A protection may carry its own window. Outside that window the rule that set it still decides
the field, with protection 0: a rule that says "protect 20 during the sale" means "protect
nothing" at other times, rather than handing the field to a less specific rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku

T = TypeVar("T")


class InvalidRule(InvalidInput):
    """A rule, or an event profile, whose settings cannot mean anything."""


class RuleLevel(StrEnum):
    """Where a rule applies; the members are listed from most to least specific."""

    LISTING = "listing"
    SKU = "sku"
    TAG = "tag"
    CHANNEL = "channel"
    GLOBAL = "global"


PRECEDENCE: tuple[RuleLevel, ...] = tuple(RuleLevel)

_TARGETED = frozenset({RuleLevel.LISTING, RuleLevel.SKU, RuleLevel.TAG})
_SETTINGS = ("protect", "buffer", "percent", "maximum", "floor", "eligible_locations")
_COUNTS = ("protect", "buffer", "maximum", "floor")


def _is_aware(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() is not None


@dataclass(frozen=True, slots=True)
class Rule:
    """One allocation rule; `None` in a setting means "not set here, ask the next level".

    Attributes:
        level: where the rule applies.
        target: the listing id, SKU or tag for those levels; `None` for channel and global.
        channel: the channel it applies to; `None` only for the global default.
        protect: units other channels may never take from this channel's pool.
        protect_start: the protection applies from this instant (tz-aware), if given.
        protect_end: the protection applies until, excluding, this instant, if given.
        buffer: units held back from what the channel shows.
        percent: share (0 to 100) of what remains that the channel shows, rounded down.
        maximum: the channel never shows more than this.
        floor: if what remains is below this, the channel shows 0.
        eligible_locations: the locations whose stock feeds the channel.
        event: the event profile this rule belongs to; `None` for a standing rule.
    """

    level: RuleLevel
    target: str | None
    channel: ChannelCode | None
    protect: int | None = None
    protect_start: datetime | None = None
    protect_end: datetime | None = None
    buffer: int | None = None
    percent: Decimal | None = None
    maximum: int | None = None
    floor: int | None = None
    eligible_locations: frozenset[LocationCode] | None = None
    event: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the rule.

        Raises:
            InvalidRule: naming the offending field.
        """
        self._validate_scope()
        for name in _COUNTS:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidRule(f"{self.label}: {name} must not be negative, got {value}")
        if self.percent is not None and not (
            self.percent.is_finite() and Decimal(0) <= self.percent <= Decimal(100)
        ):
            raise InvalidRule(f"{self.label}: percent must be within 0-100, got {self.percent}")
        self._validate_window()

    def _validate_scope(self) -> None:
        if (self.level in _TARGETED) != (self.target is not None):
            need = "needs" if self.level in _TARGETED else "takes no"
            raise InvalidRule(f"a {self.level} rule {need} target, got target={self.target!r}")
        if (self.level is RuleLevel.GLOBAL) != (self.channel is None):
            raise InvalidRule(f"{self.label}: channel must be set except for the global default")
        if self.level is RuleLevel.LISTING and (
            self.protect is not None or self.eligible_locations is not None
        ):
            raise InvalidRule(
                f"{self.label}: protect and eligible_locations are item units per channel,"
                " set them on the SKU, tag or channel"
            )
        if self.level is RuleLevel.GLOBAL and self.eligible_locations is not None:
            raise InvalidRule("global: eligible_locations are per channel, not a global default")

    def _validate_window(self) -> None:
        for name in ("protect_start", "protect_end"):
            moment = getattr(self, name)
            if moment is None:
                continue
            if self.protect is None:
                raise InvalidRule(f"{self.label}: {name} is set without protect")
            if not _is_aware(moment):
                raise InvalidRule(f"{self.label}: {name} must be timezone-aware")
        start, end = self.protect_start, self.protect_end
        if start is not None and end is not None and end <= start:
            raise InvalidRule(f"{self.label}: protect_end must be after protect_start")

    @property
    def label(self) -> str:
        """A human name of the rule, e.g. "sku RED-M x shopify (event BFCM)"."""
        if self.level is RuleLevel.GLOBAL:
            name = "global"
        elif self.level is RuleLevel.CHANNEL:
            name = f"channel {self.channel}"
        else:
            name = f"{self.level} {self.target} x {self.channel}"
        return name if self.event is None else f"{name} (event {self.event})"

    def protects_at(self, at: datetime) -> bool:
        """Whether `at` lies in the protection window (an absent bound is open)."""
        if self.protect_start is not None and at < self.protect_start:
            return False
        return self.protect_end is None or at < self.protect_end

    @property
    def key(self) -> tuple[RuleLevel, str | None, ChannelCode | None]:
        """What the rule applies to: (level, target, channel)."""
        return (self.level, self.target, self.channel)


@dataclass(frozen=True, slots=True)
class EventProfile:
    """A named set of rule overrides active from `start` until, excluding, `end`."""

    name: str
    start: datetime
    end: datetime
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        if not (_is_aware(self.start) and _is_aware(self.end)):
            raise InvalidRule(f"event {self.name}: start and end must be timezone-aware")
        if self.end <= self.start:
            raise InvalidRule(f"event {self.name}: end must be after start")
        keys: set[tuple[RuleLevel, str | None, ChannelCode | None]] = set()
        for rule in self.rules:
            if rule.event != self.name:
                raise InvalidRule(f"{rule.label}: rule in event {self.name} must name it as event")
            if rule.key in keys:
                raise InvalidRule(f"{rule.label}: appears twice in event {self.name}")
            keys.add(rule.key)

    def is_active(self, at: datetime) -> bool:
        """Whether the profile applies at `at`: start <= at < end."""
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class ResolvedField(Generic[T]):
    """The value of one setting and the rule it came from (all `None` when nothing sets it)."""

    value: T | None = None
    level: RuleLevel | None = None
    rule: str | None = None


_UNSET: ResolvedField[Any] = ResolvedField()


@dataclass(frozen=True, slots=True)
class ResolvedRules:
    """The settings that apply to one channel and one listing or item, with provenance.

    `limits` repeats buffer, percent (as an exact fraction), maximum and floor as plain
    integers for hot loops: (buffer, percent numerator, percent denominator, maximum,
    floor), with buffer 0, numerator -1, maximum -1 and floor 0 meaning "not set".
    """

    protect: ResolvedField[int] = field(default_factory=ResolvedField)
    buffer: ResolvedField[int] = field(default_factory=ResolvedField)
    percent: ResolvedField[Decimal] = field(default_factory=ResolvedField)
    maximum: ResolvedField[int] = field(default_factory=ResolvedField)
    floor: ResolvedField[int] = field(default_factory=ResolvedField)
    eligible_locations: ResolvedField[frozenset[LocationCode]] = field(
        default_factory=ResolvedField
    )
    limits: tuple[int, int, int, int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        numerator, denominator = -1, 1
        if self.percent.value is not None:
            numerator, denominator = self.percent.value.as_integer_ratio()
            denominator *= 100
        maximum = -1 if self.maximum.value is None else self.maximum.value
        limits = (self.buffer.value or 0, numerator, denominator, maximum, self.floor.value or 0)
        object.__setattr__(self, "limits", limits)


NO_RULES = ResolvedRules()

_Key = tuple[RuleLevel, str | None, ChannelCode | None]


def _resolve_field(name: str, chain: Sequence[Rule], at: datetime) -> ResolvedField[Any]:
    for rule in chain:
        value = getattr(rule, name)
        if value is None:
            continue
        label = rule.label
        if name == "protect" and not rule.protects_at(at):
            value, label = 0, f"{label}, outside its protection window"
        return ResolvedField(value, rule.level, label)
    return _UNSET


class RuleSnapshot:
    """The rules in force at one instant, indexed for fast, memoised resolution.

    Build it with `RuleBook.at(at)`. Resolution results are shared between every listing
    that hits the same chain of rules, so resolving all listings of a catalog is cheap.
    """

    def __init__(self, by_key: dict[_Key, tuple[Rule, ...]], at: datetime) -> None:
        self._by_key = by_key
        self._at = at
        self._memo: dict[tuple[int, ...], ResolvedRules] = {}

    @property
    def at(self) -> datetime:
        """The instant the snapshot describes."""
        return self._at

    def chain(
        self,
        channel: ChannelCode,
        *,
        sku: Sku | None = None,
        listing: ListingId | None = None,
        tags: Iterable[str] = (),
    ) -> tuple[Rule, ...]:
        """The rules that apply, most specific first (event rules before standing ones)."""
        keys: list[_Key] = []
        if listing is not None:
            keys.append((RuleLevel.LISTING, listing, channel))
        if sku is not None:
            keys.append((RuleLevel.SKU, sku, channel))
        keys.extend((RuleLevel.TAG, tag, channel) for tag in tags)
        keys.append((RuleLevel.CHANNEL, None, channel))
        keys.append((RuleLevel.GLOBAL, None, None))
        found = self._by_key
        return tuple(rule for key in keys for rule in found.get(key, ()))

    def resolve(
        self,
        channel: ChannelCode,
        *,
        sku: Sku | None = None,
        listing: ListingId | None = None,
        tags: Iterable[str] = (),
    ) -> ResolvedRules:
        """Resolve every setting for a channel and a SKU (and listing), field by field.

        Args:
            channel: the channel.
            sku: the item or bundle SKU; `None` for channel-wide settings.
            listing: the listing id; `None` for item-level settings (protection, locations).
            tags: the item's tags, in the order in which their rules take precedence.

        Returns:
            The resolved settings; a field no rule sets has value `None`.
        """
        chain = self.chain(channel, sku=sku, listing=listing, tags=tags)
        memo_key = tuple(map(id, chain))
        resolved = self._memo.get(memo_key)
        if resolved is None:
            values: dict[str, Any] = {
                name: _resolve_field(name, chain, self._at) for name in _SETTINGS
            }
            resolved = ResolvedRules(**values)
            self._memo[memo_key] = resolved
        return resolved


@dataclass(frozen=True, slots=True)
class RuleBook:
    """All standing rules and event profiles.

    Raises:
        InvalidRule: if two standing rules share (level, target, channel), a standing rule
            names an event, or two event profiles share a name.
    """

    rules: tuple[Rule, ...] = ()
    events: tuple[EventProfile, ...] = ()

    def __post_init__(self) -> None:
        seen: set[_Key] = set()
        for rule in self.rules:
            if rule.event is not None:
                raise InvalidRule(f"{rule.label}: belongs in event profile {rule.event}")
            if rule.key in seen:
                raise InvalidRule(f"{rule.label}: more than one standing rule")
            seen.add(rule.key)
        names = [event.name for event in self.events]
        if len(set(names)) != len(names):
            raise InvalidRule("event profile names must be unique")

    def at(self, at: datetime) -> RuleSnapshot:
        """The rules in force at `at` (tz-aware).

        Active events win over standing rules for the same key; between two active events the
        later-starting one wins (then the later name), so a nested flash sale overrides the
        season around it.
        """
        if not _is_aware(at):
            raise ValueError("the resolution instant must be timezone-aware")
        active = sorted(
            (event for event in self.events if event.is_active(at)),
            key=lambda event: (event.start, event.name),
            reverse=True,
        )
        by_key: dict[_Key, list[Rule]] = {}
        for event in active:
            for rule in event.rules:
                by_key.setdefault(rule.key, []).append(rule)
        for rule in self.rules:
            by_key.setdefault(rule.key, []).append(rule)
        return RuleSnapshot({key: tuple(found) for key, found in by_key.items()}, at)


def resolve_rules(
    book: RuleBook,
    channel: ChannelCode,
    *,
    at: datetime,
    sku: Sku | None = None,
    listing: ListingId | None = None,
    tags: Iterable[str] = (),
) -> ResolvedRules:
    """Resolve the settings of one channel and SKU (and listing) at one instant.

    For many resolutions at the same instant, use `book.at(at).resolve(...)`, which indexes
    the rules once and shares results.

    Args:
        book: the standing rules and event profiles.
        channel: the channel.
        at: the instant (tz-aware); it decides active events and protection windows.
        sku: the item or bundle SKU.
        listing: the listing id, for listing-level rules.
        tags: the item's tags, in precedence order.

    Returns:
        The settings with their provenance.
    """
    return book.at(at).resolve(channel, sku=sku, listing=listing, tags=tags)


__all__ = [
    "NO_RULES",
    "PRECEDENCE",
    "EventProfile",
    "InvalidRule",
    "ResolvedField",
    "ResolvedRules",
    "Rule",
    "RuleBook",
    "RuleLevel",
    "RuleSnapshot",
    "resolve_rules",
]
