"""The demo brand's fixed layout: locations, channels, suppliers, zones and rules.

Four locations (a main warehouse in the west, a 3PL in the east, a flagship store and
Amazon FBA as channel-held stock) and six channels. Each channel's demand comes from
ship-to zones, and each zone is served from the locations in the order listed (the
nearest first), which is how the history sources its orders.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocationSpec:
    """A location of the brand."""

    code: str
    name: str
    kind: str
    zone: str | None
    priority: int


@dataclass(frozen=True)
class ChannelSpec:
    """A channel: its settings, its share of demand and where its orders come from.

    Attributes:
        share: the channel's share of an item's demand when it lists the item.
        top_share: it lists the best-selling items up to this share of the catalog...
        tail_share: ...and this share of the others, drawn at random.
        pack: units per listing unit of its item listings (wholesale sells case packs).
        zones: (ship-to zone, share of the channel's orders, locations nearest first).
    """

    code: str
    name: str
    kind: str
    priority: int
    fee_rate: str
    locations: tuple[str, ...]
    sourcing: str
    share: float
    top_share: float
    tail_share: float
    pack: int
    zones: tuple[tuple[str, float, tuple[str, ...]], ...]


@dataclass(frozen=True)
class SupplierSpec:
    """A supplier and its quoted lead time."""

    code: str
    name: str
    lead_time_days: int


LOCATIONS = (
    LocationSpec("WH", "Main warehouse (Reno)", "warehouse", "west", 1),
    LocationSpec("3PL", "East coast 3PL (Allentown)", "3pl", "east", 2),
    LocationSpec("STORE", "Flagship store (Portland)", "store", "downtown", 3),
    LocationSpec("FBA", "Amazon FBA", "channel_held", None, 4),
)
LOCATION_INDEX = {spec.code: n for n, spec in enumerate(LOCATIONS)}

ZONE_DISTANCES = (("east", "west", 4), ("downtown", "west", 1), ("downtown", "east", 5))

_MARKETPLACE_ZONES = (("west", 0.55, ("WH", "3PL")), ("east", 0.45, ("3PL", "WH")))

CHANNELS = (
    ChannelSpec(
        "shopify", "Shopify DTC", "shopify", 1, "0.029", ("WH", "3PL", "STORE"),
        "nearest_zone", 0.38, 1.0, 1.0, 1,
        (
            ("west", 0.5, ("WH", "STORE", "3PL")),
            ("east", 0.4, ("3PL", "WH", "STORE")),
            ("downtown", 0.1, ("STORE", "WH", "3PL")),
        ),
    ),
    ChannelSpec(
        "amazon", "Amazon (merchant-fulfilled)", "amazon", 3, "0.15", ("WH", "3PL"),
        "nearest_zone", 0.14, 0.6, 0.4, 1, _MARKETPLACE_ZONES,
    ),
    ChannelSpec(
        "amazon-fba", "Amazon FBA", "amazon", 2, "0.15", ("FBA",),
        "priority", 0.20, 0.25, 0.0, 1, (("fba", 1.0, ("FBA",)),),
    ),
    ChannelSpec(
        "walmart", "Walmart Marketplace", "walmart", 4, "0.15", ("WH", "3PL"),
        "nearest_zone", 0.10, 0.4, 0.3, 1, _MARKETPLACE_ZONES,
    ),
    ChannelSpec(
        "ebay", "eBay", "ebay", 5, "0.13", ("WH",),
        "priority", 0.06, 0.1, 0.3, 1, (("west", 1.0, ("WH",)),),
    ),
    ChannelSpec(
        "wholesale", "Wholesale (B2B portal)", "wholesale", 2, "0", ("WH",),
        "priority", 0.12, 0.0, 0.0, 6, (("west", 1.0, ("WH",)),),
    ),
)  # fmt: skip
CHANNEL_INDEX = {spec.code: n for n, spec in enumerate(CHANNELS)}

SUPPLIERS = (
    SupplierSpec("PRINT", "Printworks Los Angeles", 12),
    SupplierSpec("KNIT", "Porto Knitting Mill", 45),
    SupplierSpec("CUTSEW", "Saigon Cut & Sew", 60),
    SupplierSpec("SOCK", "Carolina Sock Co", 25),
    SupplierSpec("HEAD", "Headwear Partners", 35),
    SupplierSpec("GOODS", "Goods & Gear Trading", 30),
)
SUPPLIER_INDEX = {spec.code: n for n, spec in enumerate(SUPPLIERS)}

# (level, target, channel, settings, why): the standing allocation rules.
RULES: tuple[tuple[str, str | None, str, dict[str, object], str], ...] = (
    ("tag", "core", "wholesale", {"protect": 12},
     "ring-fence a case pack of each core item for wholesale reorders"),
    ("channel", None, "amazon", {"buffer": 2, "percent": "90"},
     "marketplace: cover the sync lag and Amazon's own decrement"),
    ("channel", None, "walmart", {"buffer": 3, "percent": "80"},
     "Walmart feeds are slow: keep a buffer and show 80%"),
    ("channel", None, "ebay", {"buffer": 1, "maximum": 5},
     "eBay counts every revision: never show more than 5"),
)  # fmt: skip
