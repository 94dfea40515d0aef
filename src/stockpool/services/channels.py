"""Use cases of channels, listings and bundles.

Every change here bumps the allocation configuration's version and recomputes the ATS of
the listings it affects, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from stockpool.domain.allocation import Bundle, check_bundles, flatten_bundle
from stockpool.domain.catalog import LocationKind, require_code, require_sku, require_title
from stockpool.domain.channels import (
    ChannelListing,
    SalesChannel,
    require_channel_kind,
    require_fee_rate,
    require_listing_id,
)
from stockpool.domain.errors import AlreadyExists, InvalidInput, NotFound
from stockpool.domain.ids import ChannelCode, LocationCode, Sku
from stockpool.domain.quantities import require_units
from stockpool.domain.sourcing import require_strategy
from stockpool.services.allocation_plan import CompiledPlan, compile_plan
from stockpool.services.ats import RefreshResult, refresh_listings
from stockpool.services.context import Services
from stockpool.services.events import ats_events, publish
from stockpool.services.ports import UnitOfWork


def commit_config_change(
    uow: UnitOfWork,
    app: Services,
    affected: Iterable[Sku] | None,
    *,
    compiled: CompiledPlan | None = None,
) -> RefreshResult:
    """Bump the configuration version, recompute the affected listings, commit.

    `compiled` may be given when the caller already compiled the new configuration.
    """
    uow.channels.bump_config()
    compiled = compiled or compile_plan(uow, app.clock())
    # Later steps of this unit of work use this plan; it must never reach the process-wide
    # cache, since it describes a configuration that is not committed yet.
    uow.memo[app.plans] = compiled
    result = refresh_listings(uow, app, affected, compiled=compiled)
    publish(uow, app, ats_events(uow, app, result))
    uow.commit()
    return result


def _locations(uow: UnitOfWork, codes: Iterable[str], channel: str) -> frozenset[LocationCode]:
    found = frozenset(LocationCode(c) for c in codes)
    if not found:
        raise InvalidInput("a channel needs at least one eligible location (--locations)")
    others = {
        c.code: c.eligible_locations for c in uow.channels.list_channels(include_archived=True)
    }
    for code in sorted(found):
        location = uow.catalog.get_location(code)
        if location.kind is LocationKind.CHANNEL_HELD:
            used_by = [c for c, locs in others.items() if code in locs and c != channel]
            if used_by:
                raise InvalidInput(
                    f"{code} is channel-held stock of {used_by[0]}: it serves only that channel"
                )
    return found


def add_channel(
    app: Services,
    code: str,
    kind: str,
    locations: Sequence[str],
    *,
    name: str | None = None,
    account: str = "",
    priority: int = 100,
    fee_rate: str | Decimal | None = None,
) -> SalesChannel:
    """Create a channel with the locations it may be served from."""
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 10_000:
        raise InvalidInput(f"priority must be a whole number from 0 to 10000, got {priority!r}")
    channel_code = ChannelCode(require_code(code, what="channel code"))
    with app.uow() as uow:
        channel = SalesChannel(
            code=channel_code,
            name=require_title(name or code, what="name"),
            kind=require_channel_kind(kind),
            account=account.strip(),
            priority=priority,
            fee_rate=require_fee_rate(fee_rate),
            eligible_locations=_locations(uow, locations, channel_code),
        )
        uow.channels.add_channel(channel, at=app.clock())
        commit_config_change(uow, app, [])
    return channel


def update_channel(app: Services, code: str, **changes: Any) -> SalesChannel:
    """Change a channel's name, account, priority, fee rate, sourcing or eligible locations."""
    values: dict[str, Any] = {}
    with app.uow() as uow:
        uow.channels.get_channel(ChannelCode(code))
        for field, value in changes.items():
            if value is None:
                continue
            if field == "locations":
                values["eligible_locations"] = _locations(uow, value, code)
            elif field == "fee_rate":
                values[field] = require_fee_rate(value)
            elif field == "priority":
                values[field] = require_units(value, what="priority", allow_zero=True)
            elif field == "sourcing":
                values[field] = require_strategy(str(value)).value
            elif field in ("name", "account"):
                values[field] = str(value).strip()
            else:
                raise InvalidInput(f"a channel has no field {field!r} that can be changed")
        channel = uow.channels.update_channel(ChannelCode(code), values, at=app.clock())
        commit_config_change(uow, app, None)
    return channel


def list_channels(app: Services) -> list[SalesChannel]:
    """All active channels by priority."""
    with app.uow() as uow:
        return uow.channels.list_channels()


def add_listing(
    app: Services,
    channel: str,
    listing_id: str,
    sku: str,
    *,
    units: int = 1,
    channel_sku: str | None = None,
) -> ChannelListing:
    """Map a channel's listing to an item or a bundle (times `units` for a multipack)."""
    lid = require_listing_id(listing_id)
    count = require_units(units, what="units")
    with app.uow() as uow:
        uow.channels.get_channel(ChannelCode(channel))
        kind = uow.channels.sku_kind(Sku(sku))
        if kind is None:
            raise NotFound(f"unknown SKU {sku!r}: a listing must map to an item or a bundle")
        listing = ChannelListing(
            ChannelCode(channel), lid, channel_sku or sku, Sku(sku), count, kind == "bundle"
        )
        uow.channels.add_listing(listing, at=app.clock())
        commit_config_change(uow, app, _leaves_of(uow, Sku(sku)))
    return listing


def _leaves_of(uow: UnitOfWork, sku: Sku) -> list[Sku]:
    bundles = uow.channels.bundles()
    if sku not in bundles:
        return [sku]
    return list(flatten_bundle(bundles[sku], bundles))


def save_bundle(
    app: Services,
    sku: str,
    components: Sequence[tuple[str, int]],
    *,
    title: str | None = None,
    replace: bool = False,
) -> Bundle:
    """Create a bundle (or, with `replace`, change an existing one's components)."""
    bundle_sku = require_sku(sku)
    if not components:
        raise InvalidInput("a bundle needs at least one component (--component SKU:QTY)")
    parts = [(require_sku(s), require_units(q, what=f"quantity of {s}")) for s, q in components]
    if len({s for s, _ in parts}) != len(parts):
        raise InvalidInput("each component may appear only once in a bundle")
    with app.uow() as uow:
        kind = uow.channels.sku_kind(bundle_sku)
        if kind == "item":
            raise AlreadyExists(f"{bundle_sku} is an item; a bundle needs a SKU of its own")
        if kind == "bundle" and not replace:
            raise AlreadyExists(f"bundle {bundle_sku} exists already (use `bundle update`)")
        if kind is None and replace:
            raise NotFound(f"unknown bundle {bundle_sku!r}")
        for component, _ in parts:
            if component != bundle_sku and uow.channels.sku_kind(component) is None:
                raise NotFound(f"unknown component {component!r}: neither an item nor a bundle")
        bundles = uow.channels.bundles()
        bundle = Bundle(bundle_sku, tuple(sorted(parts)))
        check_bundles({**bundles, bundle_sku: bundle})
        uow.channels.save_bundle(bundle_sku, require_title(title or sku), parts, at=app.clock())
        commit_config_change(uow, app, _leaves_of(uow, bundle_sku))
    return bundle


def list_bundles(app: Services) -> list[tuple[Bundle, str]]:
    """Every bundle with its title."""
    with app.uow() as uow:
        titles = uow.channels.bundle_titles()
        return [(b, titles.get(s, "")) for s, b in sorted(uow.channels.bundles().items())]


def list_listings(
    app: Services, *, channel: str | None = None, sku: str | None = None
) -> list[ChannelListing]:
    """Listings with their stored ATS and version."""
    with app.uow() as uow:
        code = None if channel is None else ChannelCode(channel)
        return [
            x for _, x in uow.channels.list_listings(channel=code, sku=Sku(sku) if sku else None)
        ]
