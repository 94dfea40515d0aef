"""Channels, listings, bundles, allocation rules, event profiles and ATS."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field

from stockpool.api.schemas.common import Code, Input, Output, Sku, Units, UnitsOrZero
from stockpool.domain.allocation import Bundle
from stockpool.domain.channels import ChannelListing, SalesChannel
from stockpool.domain.explanation import ListingAts
from stockpool.domain.rules import Rule

Title = Annotated[str, Field(min_length=1, max_length=500)]
Priority = Annotated[int, Field(ge=0, le=10_000, strict=True)]
FeeRate = Annotated[Decimal, Field(ge=0, le=1, max_digits=7, decimal_places=4)]
Locations = Annotated[list[Code], Field(min_length=1, max_length=100)]
RuleSetting = Literal[
    "protect",
    "buffer",
    "percent",
    "maximum",
    "floor",
    "protect_start",
    "protect_end",
    "eligible_locations",
]


class ChannelCreate(Input):
    """A new channel and the locations that may serve it."""

    code: Code
    kind: Annotated[str, Field(min_length=1, max_length=20, examples=["shopify"])]
    locations: Locations
    name: Title | None = None
    account: Annotated[str, Field(max_length=200)] = ""
    priority: Priority = 100
    fee_rate: FeeRate | None = None


class ChannelUpdate(Input):
    """Fields of a channel to change (locations given replace the old ones)."""

    name: Title | None = None
    account: Annotated[str, Field(max_length=200)] | None = None
    priority: Priority | None = None
    fee_rate: FeeRate | None = None
    locations: Locations | None = None


class ChannelPublic(Output):
    """A channel."""

    code: str
    name: str
    kind: str
    account: str
    priority: int
    fee_rate: Decimal
    locations: list[str]

    @classmethod
    def of(cls, c: SalesChannel) -> ChannelPublic:
        """From the domain record."""
        return cls(
            code=c.code,
            name=c.name,
            kind=c.kind.value,
            account=c.account,
            priority=c.priority,
            fee_rate=c.fee_rate,
            locations=sorted(c.eligible_locations),
        )


class ChannelsPublic(Output):
    """A page of channels by priority."""

    data: list[ChannelPublic]
    next_cursor: str | None


class ListingCreate(Input):
    """A channel's listing mapped to an item or bundle."""

    channel: Code
    listing: Annotated[str, Field(min_length=1, max_length=200)]
    sku: Sku
    units: Units = 1
    channel_sku: Annotated[str, Field(max_length=200)] | None = None


class ListingPublic(Output):
    """A listing with its stored ATS and version."""

    channel: str
    listing: str
    sku: str
    channel_sku: str
    units: int
    bundle: bool
    ats: int
    version: int

    @classmethod
    def of(cls, x: ChannelListing) -> ListingPublic:
        """From the domain record."""
        return cls(
            channel=x.channel,
            listing=x.listing_id,
            sku=x.sku,
            channel_sku=x.channel_sku,
            units=x.units,
            bundle=x.is_bundle,
            ats=x.ats,
            version=x.ats_version,
        )


class ListingsPublic(Output):
    """A page of listings."""

    data: list[ListingPublic]
    next_cursor: str | None


class Component(Input):
    """One component of a bundle."""

    sku: Sku
    quantity: Units


class BundleCreate(Input):
    """A new bundle."""

    sku: Sku
    title: Title | None = None
    components: Annotated[list[Component], Field(min_length=1, max_length=100)]


class BundleUpdate(Input):
    """A bundle's new components."""

    components: Annotated[list[Component], Field(min_length=1, max_length=100)]


class ComponentPublic(Output):
    """One component of a bundle."""

    sku: str
    quantity: int


class BundlePublic(Output):
    """A bundle and its components."""

    sku: str
    title: str
    components: list[ComponentPublic]

    @classmethod
    def of(cls, bundle: Bundle, title: str) -> BundlePublic:
        """From the domain record."""
        parts = [ComponentPublic(sku=s, quantity=q) for s, q in bundle.components]
        return cls(sku=bundle.sku, title=title, components=parts)


class BundlesPublic(Output):
    """A page of bundles."""

    data: list[BundlePublic]
    next_cursor: str | None


class RuleSet(Input):
    """Settings for the rule at one level (with `dry_run`, only the effect is shown)."""

    channel: Code | None = None
    sku: Sku | None = None
    tag: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    listing: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    event: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    protect: UnitsOrZero | None = None
    protect_start: AwareDatetime | None = None
    protect_end: AwareDatetime | None = None
    buffer: UnitsOrZero | None = None
    percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)] | None = None
    maximum: UnitsOrZero | None = None
    floor: UnitsOrZero | None = None
    eligible_locations: Locations | None = None
    clear: Annotated[list[RuleSetting], Field(max_length=8)] = []
    dry_run: bool = False
    reason: Annotated[str, Field(max_length=1000)] = ""

    def settings(self) -> dict[str, Any]:
        """The settings as the rules use case takes them."""
        names = ("protect", "buffer", "maximum", "floor", "percent")
        found: dict[str, Any] = {name: getattr(self, name) for name in names}
        found["protect_start"] = self.protect_start
        found["protect_end"] = self.protect_end
        found["eligible_locations"] = self.eligible_locations
        return found


class RulePublic(Output):
    """One rule."""

    level: str
    target: str | None
    channel: str | None
    event: str | None
    protect: int | None
    protect_start: datetime | None
    protect_end: datetime | None
    buffer: int | None
    percent: Decimal | None
    maximum: int | None
    floor: int | None
    eligible_locations: list[str] | None

    @classmethod
    def of(cls, r: Rule) -> RulePublic:
        """From the domain record."""
        return cls(
            level=r.level.value,
            target=r.target,
            channel=r.channel,
            event=r.event,
            protect=r.protect,
            protect_start=r.protect_start,
            protect_end=r.protect_end,
            buffer=r.buffer,
            percent=r.percent,
            maximum=r.maximum,
            floor=r.floor,
            eligible_locations=None
            if r.eligible_locations is None
            else sorted(r.eligible_locations),
        )


class RulesPublic(Output):
    """A page of rules."""

    data: list[RulePublic]
    next_cursor: str | None


class Effect(Output):
    """A listing's ATS before and after a rule change."""

    channel: str
    listing: str
    before: int
    after: int


class RuleChangePublic(Output):
    """A proposed (dry run) or saved rule change and its effect."""

    saved: bool
    before: RulePublic | None
    after: RulePublic | None
    effect: list[Effect]


class RuleHistoryEntry(Output):
    """One audited rule change."""

    at: datetime
    actor: str
    scope: str
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class RuleHistoryPublic(Output):
    """A page of rule changes, newest first."""

    data: list[RuleHistoryEntry]
    next_cursor: str | None


class EventProfileCreate(Input):
    """A named set of rule overrides with a start and an end."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    start: AwareDatetime
    end: AwareDatetime


class EventProfilePublic(Output):
    """An event profile."""

    name: str
    start: datetime
    end: datetime


class EventProfilesPublic(Output):
    """A page of event profiles by start."""

    data: list[EventProfilePublic]
    next_cursor: str | None


class Step(Output):
    """One step of an ATS explanation."""

    step: str
    value: int
    rule: str | None
    level: str | None


class AtsPublic(Output):
    """A listing's ATS with its explanation (the objects of `ats show --json`)."""

    channel: str
    listing: str
    ats: int
    explanation: list[Step]

    @classmethod
    def of(cls, x: ListingAts) -> AtsPublic:
        """From the domain record."""
        steps = [
            Step(step=s.step, value=s.value, rule=s.rule, level=s.level) for s in x.explanation
        ]
        return cls(channel=x.channel, listing=x.listing, ats=x.ats, explanation=steps)


class RecomputePublic(Output):
    """What a full recompute did."""

    computed: int
    changed: int
