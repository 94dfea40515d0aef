"""Channels, listings, bundles, rules, event profiles (admins change them) and ATS."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from stockpool.api.pagination import Cursor, Limit, paginate
from stockpool.api.problems import documented
from stockpool.api.routing import AuditedRoute, set_before
from stockpool.api.schemas.allocation import (
    AtsPublic,
    BundleCreate,
    BundlePublic,
    BundlesPublic,
    BundleUpdate,
    ChannelCreate,
    ChannelPublic,
    ChannelsPublic,
    ChannelUpdate,
    Effect,
    EventProfileCreate,
    EventProfilePublic,
    EventProfilesPublic,
    ListingCreate,
    ListingPublic,
    ListingsPublic,
    RecomputePublic,
    RuleChangePublic,
    RuleHistoryEntry,
    RuleHistoryPublic,
    RulePublic,
    RuleSet,
    RulesPublic,
)
from stockpool.api.security import Admin, Reader, services_of
from stockpool.domain.errors import NotFound
from stockpool.services import ats, channels, rules

router = APIRouter(
    tags=["allocation"], route_class=AuditedRoute, responses=documented(401, 403, 404, 422)
)
Code = Annotated[str, Path(min_length=1, max_length=100)]
SkuPath = Annotated[str, Path(min_length=1, max_length=100, description="Item or bundle SKU.")]
WRITE = documented(404, 409, 413)
HISTORY_WINDOW = 10_000


@router.get("/channels", summary="List channels")
def list_channels(
    request: Request,
    _key: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
    kind: Annotated[str | None, Query(max_length=20)] = None,
) -> ChannelsPublic:
    """Active channels by priority, then code."""
    found = [c for c in channels.list_channels(services_of(request)) if kind in (None, c.kind)]
    found.sort(key=lambda c: (c.priority, c.code))
    page, following = paginate(found, lambda c: f"{c.priority:05d}|{c.code}", cursor, limit)
    return ChannelsPublic(data=[ChannelPublic.of(c) for c in page], next_cursor=following)


@router.post("/channels", status_code=201, summary="Add a channel", responses=WRITE)
def add_channel(request: Request, _key: Admin, body: ChannelCreate) -> ChannelPublic:
    """Add a channel served from the given locations."""
    channel = channels.add_channel(
        services_of(request),
        body.code,
        body.kind,
        body.locations,
        name=body.name,
        account=body.account,
        priority=body.priority,
        fee_rate=body.fee_rate,
    )
    return ChannelPublic.of(channel)


@router.get("/channels/{code}", summary="Get a channel", responses=documented(404))
def get_channel(request: Request, _key: Reader, code: Code) -> ChannelPublic:
    """One active channel."""
    for channel in channels.list_channels(services_of(request)):
        if channel.code == code:
            return ChannelPublic.of(channel)
    raise NotFound(f"unknown channel {code!r}")


@router.patch("/channels/{code}", summary="Change a channel", responses=WRITE)
def update_channel(request: Request, _key: Admin, code: Code, body: ChannelUpdate) -> ChannelPublic:
    """Change a channel (its eligible locations are replaced when given)."""
    services = services_of(request)
    set_before(request, get_channel(request, _key, code).model_dump(mode="json"))
    channel = channels.update_channel(services, code, **body.model_dump(exclude_none=True))
    return ChannelPublic.of(channel)


@router.get("/listings", summary="List listings")
def list_listings(
    request: Request,
    _key: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
    channel: Annotated[str | None, Query(max_length=100)] = None,
    sku: Annotated[str | None, Query(max_length=100)] = None,
) -> ListingsPublic:
    """Listings with their stored ATS, by channel and listing id."""
    found = channels.list_listings(services_of(request), channel=channel, sku=sku)
    found.sort(key=lambda x: (x.channel, x.listing_id))
    page, following = paginate(found, lambda x: f"{x.channel}\x00{x.listing_id}", cursor, limit)
    return ListingsPublic(data=[ListingPublic.of(x) for x in page], next_cursor=following)


@router.post("/listings", status_code=201, summary="Add a listing", responses=WRITE)
def add_listing(request: Request, _key: Admin, body: ListingCreate) -> ListingPublic:
    """Map a channel's listing to an item or a bundle (times `units` for a multipack)."""
    services = services_of(request)
    channels.add_listing(
        services,
        body.channel,
        body.listing,
        body.sku,
        units=body.units,
        channel_sku=body.channel_sku,
    )
    stored = channels.list_listings(services, channel=body.channel, sku=body.sku)
    return ListingPublic.of(next(x for x in stored if x.listing_id == body.listing))


@router.get("/bundles", summary="List bundles")
def list_bundles(
    request: Request, _key: Reader, cursor: Cursor = None, limit: Limit = 100
) -> BundlesPublic:
    """Every bundle and its components, by SKU."""
    found = channels.list_bundles(services_of(request))
    page, following = paginate(found, lambda pair: str(pair[0].sku), cursor, limit)
    return BundlesPublic(data=[BundlePublic.of(b, t) for b, t in page], next_cursor=following)


@router.post("/bundles", status_code=201, summary="Add a bundle", responses=WRITE)
def add_bundle(request: Request, _key: Admin, body: BundleCreate) -> BundlePublic:
    """Add a bundle of components (items or other bundles)."""
    parts = [(c.sku, c.quantity) for c in body.components]
    bundle = channels.save_bundle(services_of(request), body.sku, parts, title=body.title)
    return BundlePublic.of(bundle, body.title or body.sku)


@router.put("/bundles/{sku}", summary="Replace a bundle's components", responses=WRITE)
def update_bundle(request: Request, _key: Admin, sku: SkuPath, body: BundleUpdate) -> BundlePublic:
    """Replace a bundle's components."""
    services = services_of(request)
    parts = [(c.sku, c.quantity) for c in body.components]
    bundle = channels.save_bundle(services, sku, parts, replace=True)
    titles = {b.sku: t for b, t in channels.list_bundles(services)}
    return BundlePublic.of(bundle, titles.get(bundle.sku, sku))


@router.get("/rules", summary="List rules")
def list_rules(
    request: Request, _key: Reader, cursor: Cursor = None, limit: Limit = 100
) -> RulesPublic:
    """Every rule, standing and in event profiles."""
    found = list(enumerate(rules.list_rules(services_of(request))))
    page, following = paginate(found, lambda pair: pair[0], cursor, limit)
    return RulesPublic(data=[RulePublic.of(r) for _, r in page], next_cursor=following)


@router.post("/rules", summary="Set a rule (or preview it)", responses=WRITE)
def set_rule(request: Request, key: Admin, body: RuleSet) -> RuleChangePublic:
    """Merge settings into the rule at one level; `dry_run` shows the effect, saves nothing."""
    services = services_of(request)
    place = rules.place_for(
        channel=body.channel, sku=body.sku, tag=body.tag, listing=body.listing, event=body.event
    )
    change = rules.set_rule(
        services,
        place,
        body.settings(),
        clear=body.clear,
        dry_run=body.dry_run,
        actor=key.actor,
        reason=body.reason,
    )
    before = None if change.before is None else RulePublic.of(change.before)
    set_before(request, None if before is None else before.model_dump(mode="json"))
    return RuleChangePublic(
        saved=change.saved,
        before=before,
        after=None if change.after is None else RulePublic.of(change.after),
        effect=[Effect(channel=c, listing=x, before=b, after=a) for c, x, b, a in change.effect],
    )


@router.get("/rules/history", summary="Rule change history")
def rule_history(
    request: Request, _key: Reader, cursor: Cursor = None, limit: Limit = 100
) -> RuleHistoryPublic:
    """The audit of rule changes, newest first: who, when, why, before and after."""
    found = list(enumerate(rules.rule_history(services_of(request), limit=HISTORY_WINDOW)))
    page, following = paginate(found, lambda pair: pair[0], cursor, limit)
    return RuleHistoryPublic(
        data=[RuleHistoryEntry(**entry) for _, entry in page], next_cursor=following
    )


@router.get("/event-profiles", summary="List event profiles")
def list_event_profiles(
    request: Request, _key: Reader, cursor: Cursor = None, limit: Limit = 100
) -> EventProfilesPublic:
    """Every event profile by start."""
    found = rules.list_events(services_of(request))
    page, following = paginate(found, lambda e: f"{e[1].isoformat()}|{e[0]}", cursor, limit)
    return EventProfilesPublic(
        data=[EventProfilePublic(name=n, start=s, end=e) for n, s, e in page],
        next_cursor=following,
    )


@router.post("/event-profiles", status_code=201, summary="Add an event profile", responses=WRITE)
def add_event_profile(
    request: Request, _key: Admin, body: EventProfileCreate
) -> EventProfilePublic:
    """Add an event profile; give it rules with `POST /v1/rules` and `event`."""
    rules.add_event(services_of(request), body.name, body.start, body.end)
    return EventProfilePublic(name=body.name.strip(), start=body.start, end=body.end)


@router.get("/items/{sku}/ats", summary="ATS of an item, explained", responses=documented(404))
def item_ats(request: Request, _key: Reader, sku: SkuPath) -> list[AtsPublic]:
    """Every listing of the item or bundle on every channel, with its ATS explained."""
    return [AtsPublic.of(x) for x in ats.show(services_of(request), sku).listings]


@router.get(
    "/channels/{code}/listings/{listing}/ats",
    summary="ATS of a listing, explained",
    responses=documented(404),
)
def listing_ats(
    request: Request,
    _key: Reader,
    code: Code,
    listing: Annotated[str, Path(min_length=1, max_length=200)],
) -> list[AtsPublic]:
    """Why a listing shows what it shows: every step, its number and its rule."""
    return [AtsPublic.of(x) for x in ats.explain(services_of(request), code, listing).listings]


@router.post("/ats/recompute", summary="Recompute every ATS", responses=documented(413))
def recompute(request: Request, _key: Admin) -> RecomputePublic:
    """Recompute every listing's ATS and store the ones that changed."""
    result = ats.recompute_all(services_of(request))
    return RecomputePublic(computed=len(result.computed), changed=len(result.changed))
