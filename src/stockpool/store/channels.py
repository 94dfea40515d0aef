"""Channels, their eligible locations, listings and bundles in the database."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, text, update

from stockpool.domain.allocation import Bundle
from stockpool.domain.channels import ChannelKind, ChannelListing, ListingRef, SalesChannel
from stockpool.domain.errors import AlreadyExists, NotFound
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.store.allocation_tables import (
    ATS_ROWS_SQL,
    allocation_config,
    bundle_components,
    bundles,
    channel_locations,
    channels,
    listing_ats,
    listings,
)
from stockpool.store.driver import DriverStatement
from stockpool.store.ids import IdMap
from stockpool.store.tables import items, locations

# Every listing is read when a plan is compiled: straight on the driver (see `driver`).
_PLAN_LISTINGS = DriverStatement(
    "SELECT l.id, c.code, l.listing_id, COALESCE(i.sku, b.sku), l.units, l.item_id IS NULL "
    "FROM listings l JOIN channels c ON c.id = l.channel_id "
    "LEFT JOIN items i ON i.id = l.item_id LEFT JOIN bundles b ON b.id = l.bundle_id "
    "WHERE l.archived_at IS NULL AND c.archived_at IS NULL ORDER BY l.id"
)


_ATS_ROW = ATS_ROWS_SQL.replace("{where}", "AND l.id = :row")
_ATS_ROWS_MISSING = ATS_ROWS_SQL.replace("{where}", "")


def add_missing_ats_rows(connection: Connection) -> int:
    """Give every listing without one its stored-ATS row (0, version 0): for listings loaded
    in bulk straight into the table. Returns how many were added."""
    return connection.execute(text(_ATS_ROWS_MISSING)).rowcount


_ITEM_TAGS = DriverStatement("SELECT sku, tags FROM items")
_CONFIG_VERSION = DriverStatement("SELECT version FROM allocation_config")


class SqlChannels:
    """Channel, listing and bundle repository on one connection (inside a unit of work)."""

    def __init__(self, connection: Connection, ids: IdMap) -> None:
        self._c = connection
        self._ids = ids

    # -- configuration version -------------------------------------------------------------
    def config_version(self) -> int:
        """The version of the allocation configuration (bumped by every change)."""
        row = _CONFIG_VERSION.run(self._c, {})  # every stock change asks: on the driver
        assert row is not None, "allocation_config has its one row from the migrations"
        return int(row[0])

    def bump_config(self) -> None:
        """Mark the allocation configuration as changed (every process recompiles its plan)."""
        self._c.execute(update(allocation_config).values(version=allocation_config.c.version + 1))

    # -- channels --------------------------------------------------------------------------
    def _channel_id(self, code: ChannelCode) -> int:
        found = self._c.execute(select(channels.c.id).where(channels.c.code == code)).scalar()
        if found is None:
            raise NotFound(f"unknown channel {code!r}: add it with `stockpool channel add`")
        return int(found)

    def add_channel(self, channel: SalesChannel, *, at: datetime) -> None:
        """Insert a channel with its eligible locations."""
        if self._c.execute(select(channels.c.id).where(channels.c.code == channel.code)).first():
            raise AlreadyExists(f"a channel with code {channel.code!r} exists already")
        channel_id = self._c.execute(
            insert(channels)
            .values(
                code=channel.code,
                name=channel.name,
                kind=channel.kind.value,
                account=channel.account,
                priority=channel.priority,
                fee_rate=channel.fee_rate,
                created_at=at,
                updated_at=at,
            )
            .returning(channels.c.id)
        ).scalar_one()
        self._set_locations(channel_id, channel.eligible_locations)

    def _set_locations(self, channel_id: int, codes: frozenset[LocationCode]) -> None:
        self._c.execute(
            delete(channel_locations).where(channel_locations.c.channel_id == channel_id)
        )
        if codes:
            self._c.execute(
                insert(channel_locations),
                [
                    {"channel_id": channel_id, "location_id": self._ids.location(c)}
                    for c in sorted(codes)
                ],
            )

    def update_channel(
        self, code: ChannelCode, changes: Mapping[str, Any], *, at: datetime
    ) -> SalesChannel:
        """Change fields of a channel (`eligible_locations` replaces the set)."""
        channel_id = self._channel_id(code)
        values = dict(changes)
        eligible = values.pop("eligible_locations", None)
        if "kind" in values:
            values["kind"] = values["kind"].value
        self._c.execute(
            update(channels).where(channels.c.id == channel_id).values(updated_at=at, **values)
        )
        if eligible is not None:
            self._set_locations(channel_id, eligible)
        return self.get_channel(code)

    def get_channel(self, code: ChannelCode) -> SalesChannel:
        """One channel, or NotFound."""
        found = [c for c in self.list_channels(include_archived=True) if c.code == code]
        if not found:
            raise NotFound(f"unknown channel {code!r}: add it with `stockpool channel add`")
        return found[0]

    def list_channels(self, *, include_archived: bool = False) -> list[SalesChannel]:
        """All channels by priority, then code."""
        eligible: dict[int, set[LocationCode]] = {}
        for channel_id, code in self._c.execute(
            select(channel_locations.c.channel_id, locations.c.code).join(
                locations, locations.c.id == channel_locations.c.location_id
            )
        ):
            eligible.setdefault(channel_id, set()).add(LocationCode(code))
        query = select(channels).order_by(channels.c.priority, channels.c.code)
        if not include_archived:
            query = query.where(channels.c.archived_at.is_(None))
        return [
            _channel(row, frozenset(eligible.get(row.id, ()))) for row in self._c.execute(query)
        ]

    # -- bundles ---------------------------------------------------------------------------
    def sku_kind(self, sku: Sku) -> str | None:
        """ "item", "bundle", or None for a SKU that is neither."""
        if self._c.execute(select(items.c.id).where(items.c.sku == sku)).first():
            return "item"
        if self._c.execute(select(bundles.c.id).where(bundles.c.sku == sku)).first():
            return "bundle"
        return None

    def save_bundle(
        self, sku: Sku, title: str, components: Sequence[tuple[Sku, int]], *, at: datetime
    ) -> None:
        """Create a bundle, or replace the components of an existing one."""
        bundle_id = self._c.execute(select(bundles.c.id).where(bundles.c.sku == sku)).scalar()
        if bundle_id is None:
            bundle_id = self._c.execute(
                insert(bundles)
                .values(sku=sku, title=title, created_at=at, updated_at=at)
                .returning(bundles.c.id)
            ).scalar_one()
        else:
            self._c.execute(update(bundles).where(bundles.c.id == bundle_id).values(updated_at=at))
            self._c.execute(
                delete(bundle_components).where(bundle_components.c.bundle_id == bundle_id)
            )
        self._c.execute(
            insert(bundle_components),
            [{"bundle_id": bundle_id, "component_sku": s, "quantity": q} for s, q in components],
        )

    def bundles(self) -> dict[Sku, Bundle]:
        """Every bundle with its components."""
        parts: dict[Sku, list[tuple[Sku, int]]] = {}
        for sku, component, quantity in self._c.execute(
            select(bundles.c.sku, bundle_components.c.component_sku, bundle_components.c.quantity)
            .join(bundle_components, bundle_components.c.bundle_id == bundles.c.id)
            .order_by(bundles.c.sku, bundle_components.c.component_sku)
        ):
            parts.setdefault(Sku(sku), []).append((Sku(component), quantity))
        return {sku: Bundle(sku, tuple(found)) for sku, found in parts.items()}

    def bundle_titles(self) -> dict[Sku, str]:
        """The title of every bundle."""
        return {Sku(s): t for s, t in self._c.execute(select(bundles.c.sku, bundles.c.title))}

    # -- listings --------------------------------------------------------------------------
    def add_listing(self, listing: ChannelListing, *, at: datetime) -> None:
        """Insert a listing mapped to an item or a bundle."""
        channel_id = self._channel_id(listing.channel)
        exists = select(listings.c.id).where(
            listings.c.channel_id == channel_id, listings.c.listing_id == listing.listing_id
        )
        if self._c.execute(exists).first():
            raise AlreadyExists(
                f"channel {listing.channel} has a listing {listing.listing_id!r} already"
            )
        target: dict[str, Any] = {"item_id": None, "bundle_id": None}
        if listing.is_bundle:
            target["bundle_id"] = self._c.execute(
                select(bundles.c.id).where(bundles.c.sku == listing.sku)
            ).scalar_one()
        else:
            target["item_id"] = self._ids.item(listing.sku)
        row_id = self._c.execute(
            insert(listings)
            .values(
                channel_id=channel_id,
                listing_id=listing.listing_id,
                channel_sku=listing.channel_sku,
                units=listing.units,
                created_at=at,
                **target,
            )
            .returning(listings.c.id)
        ).scalar_one()
        self._c.execute(text(_ATS_ROW), {"row": row_id})

    def list_listings(
        self, *, channel: ChannelCode | None = None, sku: Sku | None = None
    ) -> list[tuple[int, ChannelListing]]:
        """Active listings with their row ids, by channel priority then listing id."""
        query = (
            select(
                listings,
                listing_ats.c.ats,
                listing_ats.c.ats_version,
                channels.c.code.label("channel_code"),
                items.c.sku.label("item_sku"),
                bundles.c.sku.label("bundle_sku"),
            )
            .join(channels, channels.c.id == listings.c.channel_id)
            .join(listing_ats, listing_ats.c.listing_row_id == listings.c.id)
            .outerjoin(items, items.c.id == listings.c.item_id)
            .outerjoin(bundles, bundles.c.id == listings.c.bundle_id)
            .where(listings.c.archived_at.is_(None))
            .order_by(channels.c.priority, channels.c.code, listings.c.listing_id)
        )
        if channel is not None:
            query = query.where(listings.c.channel_id == self._channel_id(channel))
        if sku is not None:
            query = query.where((items.c.sku == sku) | (bundles.c.sku == sku))
        return [(row.id, _listing(row)) for row in self._c.execute(query)]

    def plan_listings(self) -> list[ListingRef]:
        """Every active listing of an active channel, as light tuples, in row id order (a
        plan compile reads them all)."""
        make = tuple.__new__  # NamedTuple._make in Python costs more than the read itself
        return [make(ListingRef, row) for row in _PLAN_LISTINGS.rows(self._c, {})]

    def get_listing(
        self, channel: ChannelCode, listing_id: ListingId
    ) -> tuple[int, ChannelListing]:
        """One listing, or NotFound."""
        for row_id, found in self.list_listings(channel=channel):
            if found.listing_id == listing_id:
                return row_id, found
        raise NotFound(f"channel {channel} has no listing {listing_id!r}")

    def sourcing(self, code: ChannelCode) -> str:
        """The sourcing strategy of a channel's orders."""
        found = self._c.execute(select(channels.c.sourcing).where(channels.c.code == code)).scalar()
        if found is None:
            raise NotFound(f"unknown channel {code!r}: add it with `stockpool channel add`")
        return str(found)

    def item_tags(self) -> dict[Sku, tuple[str, ...]]:
        """The tags of every item that has any."""
        found = {}
        for sku, tags in _ITEM_TAGS.rows(self._c, {}):
            listed = json.loads(tags) if isinstance(tags, str) else tags  # text on SQLite
            if listed:
                found[Sku(sku)] = tuple(listed)
        return found


def _channel(row: Row[Any], eligible: frozenset[LocationCode]) -> SalesChannel:
    return SalesChannel(
        code=ChannelCode(row.code),
        name=row.name,
        kind=ChannelKind(row.kind),
        account=row.account,
        priority=row.priority,
        fee_rate=row.fee_rate,
        eligible_locations=eligible,
        archived_at=row.archived_at,
    )


def _listing(row: Row[Any]) -> ChannelListing:
    return ChannelListing(
        channel=ChannelCode(row.channel_code),
        listing_id=ListingId(row.listing_id),
        channel_sku=row.channel_sku,
        sku=Sku(row.item_sku or row.bundle_sku),
        units=row.units,
        is_bundle=row.bundle_id is not None,
        ats=row.ats,
        ats_version=row.ats_version,
    )
