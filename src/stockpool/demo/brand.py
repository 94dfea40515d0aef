"""The demo brand's catalog: what it sells, where it keeps stock, and where it sells it.

An apparel brand: styles of tees, hoodies and the like in colours and sizes (the best
styles tagged `core`), a long tail of accessories that sell now and then, a few bundles
(kits of items) and multipacks (listings that sell several units of one item). Every
number is drawn from the generator passed in, so a seed fixes the whole catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stockpool.demo.calendar import Floats
from stockpool.demo.layout import CHANNELS, SUPPLIERS, ChannelSpec

Rng = np.random.Generator

SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SIZE_WEIGHTS = (0.05, 0.15, 0.28, 0.27, 0.17, 0.08)
COLOURS = (
    ("BLK", "Black"),
    ("WHT", "White"),
    ("GRY", "Heather Grey"),
    ("NVY", "Navy"),
    ("OLV", "Olive"),
    ("SND", "Sand"),
    ("FOR", "Forest"),
    ("BRG", "Burgundy"),
    ("SKY", "Sky"),
    ("RST", "Rust"),
)
STYLE_WORDS = (
    "Everyday", "Heavyweight", "Pocket", "Trail", "Harbor", "Summit", "Canyon", "Coastal",
    "Vintage", "Relaxed", "Studio", "Field", "Camp", "Ridge", "Meadow", "Dune",
)  # fmt: skip


@dataclass(frozen=True)
class Category:
    """A kind of product: its prices, supplier, sizes and how well it sells."""

    code: str
    name: str
    supplier: str
    price: float
    cost: float
    sizes: tuple[str, ...]
    apparel: bool
    case_pack: int
    popularity: float  # mean units a day of one style, all channels together


APPAREL = (
    Category("TEE", "Tee", "PRINT", 28, 7.5, SIZES, True, 12, 2.4),
    Category("LST", "Long Sleeve Tee", "PRINT", 36, 10, SIZES, True, 12, 1.1),
    Category("HOOD", "Hoodie", "KNIT", 68, 21, SIZES, True, 6, 1.6),
    Category("SWT", "Sweatpant", "KNIT", 58, 18, SIZES, True, 6, 1.0),
    Category("SHRT", "Short", "CUTSEW", 42, 12, SIZES[1:], True, 10, 0.9),
    Category("JKT", "Jacket", "CUTSEW", 128, 46, SIZES[1:], True, 4, 0.5),
)
LONG_TAIL = (
    Category("SOCK", "Crew Sock", "SOCK", 14, 3, ("M", "L"), False, 24, 0.35),
    Category("CAP", "Cap", "HEAD", 32, 8, ("OS",), False, 12, 0.25),
    Category("BEAN", "Beanie", "HEAD", 28, 6, ("OS",), False, 12, 0.2),
    Category("TOTE", "Tote Bag", "GOODS", 24, 5, ("OS",), False, 20, 0.08),
    Category("BOTL", "Water Bottle", "GOODS", 30, 9, ("OS",), False, 12, 0.06),
    Category("MUG", "Enamel Mug", "GOODS", 18, 4, ("OS",), False, 24, 0.05),
    Category("STKR", "Sticker Pack", "GOODS", 8, 1, ("OS",), False, 50, 0.06),
    Category("PTCH", "Patch", "GOODS", 9, 1.5, ("OS",), False, 50, 0.04),
    Category("KEY", "Keychain", "GOODS", 12, 2, ("OS",), False, 50, 0.03),
)


@dataclass
class Catalog:
    """Items as parallel lists (index = item number), bundles and listings.

    Attributes:
        skus, titles, tags, prices, costs: the items.
        suppliers: supplier code per item; case_packs: its case pack.
        rates: mean units a day of each item over all channels, before seasons.
        category: category code per item; core: whether the item's style is a core style.
        bundles: (bundle SKU, title, [(item number, quantity)]).
        listings: per channel code, (listing id, channel SKU, item number or bundle SKU,
            units per listing unit).
    """

    skus: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)
    prices: list[float] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    suppliers: list[str] = field(default_factory=list)
    case_packs: list[int] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    core: list[bool] = field(default_factory=list)
    bundles: list[tuple[str, str, list[tuple[int, int]]]] = field(default_factory=list)
    listings: dict[str, list[tuple[str, str, int | str, int]]] = field(default_factory=dict)

    def add(self, category: Category, sku: str, title: str, rate: float, *, core: bool) -> None:
        """Append one item."""
        self.skus.append(sku)
        self.titles.append(title)
        kind = "apparel" if category.apparel else "accessories"
        self.tags.append([category.code.lower(), kind, *(["core"] if core else [])])
        self.prices.append(category.price)
        self.costs.append(category.cost)
        self.suppliers.append(category.supplier)
        self.case_packs.append(category.case_pack)
        self.rates.append(rate)
        self.category.append(category.code)
        self.core.append(core)


def _style(
    catalog: Catalog, rng: Rng, category: Category, number: int, *, core: bool, colours: int
) -> None:
    word = STYLE_WORDS[number % len(STYLE_WORDS)]
    style_rate = category.popularity * float(rng.lognormal(0.0, 0.6)) * (2.0 if core else 1.0)
    picked = rng.choice(len(COLOURS), size=colours, replace=False)
    shares = rng.dirichlet(np.full(colours, 2.0))
    weights = np.array(SIZE_WEIGHTS[-len(category.sizes) :]) if category.apparel else None
    for colour, share in zip(picked, shares, strict=True):
        code, name = COLOURS[int(colour)]
        for k, size in enumerate(category.sizes):
            size_share = (
                1.0 / len(category.sizes) if weights is None else weights[k] / weights.sum()
            )
            sku = f"{category.code}-{number:03d}-{code}" + ("" if size == "OS" else f"-{size}")
            title = f"{word} {category.name}, {name}" + ("" if size == "OS" else f", {size}")
            catalog.add(category, sku, title, style_rate * float(share) * size_share, core=core)


def _items(catalog: Catalog, rng: Rng, count: int) -> None:
    apparel_quota = int(count * 0.6)
    number = 0
    while len(catalog.skus) < apparel_quota:
        category = APPAREL[int(rng.choice(len(APPAREL), p=_mix(APPAREL)))]
        number += 1
        _style(catalog, rng, category, number, core=rng.random() < 0.3, colours=_colours(rng))
    while len(catalog.skus) < count:
        category = LONG_TAIL[int(rng.choice(len(LONG_TAIL), p=_mix(LONG_TAIL)))]
        number += 1
        _style(catalog, rng, category, number, core=False, colours=int(rng.integers(1, 4)))
    # The last style may overshoot the size knob: keep exactly `count` items.
    for values in vars(catalog).values():
        if isinstance(values, list):
            del values[count:]


def _mix(categories: tuple[Category, ...]) -> Floats:
    weights = np.array([c.popularity for c in categories]) ** 0.5
    return np.asarray(weights / weights.sum())


def _colours(rng: Rng) -> int:
    return int(rng.integers(3, 7))


def _bundles(catalog: Catalog, rng: Rng, count: int) -> None:
    by_category: dict[str, list[int]] = {}
    for index, code in enumerate(catalog.category):
        by_category.setdefault(code, []).append(index)
    for n in range(count):
        kind = n % 3
        if kind == 0 and by_category.get("TEE"):
            tees = [int(t) for t in rng.choice(by_category["TEE"], size=3, replace=False)]
            parts, title = [(t, 1) for t in tees], "Tee Trio"
        elif kind == 1 and by_category.get("HOOD") and by_category.get("BEAN"):
            hood = int(rng.choice(by_category["HOOD"]))
            bean = int(rng.choice(by_category["BEAN"]))
            parts, title = [(hood, 1), (bean, 1)], "Cold Weather Gift Set"
        else:
            pool = by_category.get("SOCK") or list(range(len(catalog.skus)))
            parts, title = [(int(rng.choice(pool)), 3)], "Sock Drawer Refill"
        merged: dict[int, int] = {}
        for item, quantity in parts:
            merged[item] = merged.get(item, 0) + quantity
        catalog.bundles.append((f"BND-{n + 1:04d}", f"{title} #{n + 1}", sorted(merged.items())))


def _listing_id(channel: ChannelSpec, number: int, sku: str, units: int) -> str:
    if channel.kind == "amazon":
        digits = np.base_repr(number + 36**7, 36)
        return f"B0{digits[-8:]}" + ("" if units == 1 else f"-{units}PK")
    prefix = {"shopify": "4", "walmart": "5", "ebay": "1"}.get(channel.kind)
    if prefix is None:
        return f"WS-{sku}-{units}"
    return f"{prefix}{number + 10_000_000:011d}" + ("" if units == 1 else f"-{units}")


def _listings(catalog: Catalog, rng: Rng) -> None:
    rates = np.array(catalog.rates)
    rank = np.empty(len(rates), dtype=np.int64)
    rank[np.argsort(-rates, kind="stable")] = np.arange(len(rates))
    for channel in CHANNELS:
        rows: list[tuple[str, str, int | str, int]] = []
        draws = rng.random(len(catalog.skus))
        for index, sku in enumerate(catalog.skus):
            listed = bool(rank[index] < len(rates) * channel.top_share)
            if channel.code == "wholesale":
                listed = catalog.core[index]
            elif channel.code != "amazon-fba":
                listed = listed or bool(draws[index] < channel.tail_share)
            if not listed:
                continue
            units = channel.pack
            rows.append((_listing_id(channel, len(rows), sku, units), sku, index, units))
            if catalog.category[index] == "SOCK" and channel.code in ("shopify", "amazon"):
                packs = 3 if channel.code == "amazon" else 6
                rows.append((_listing_id(channel, len(rows), sku, packs), sku, index, packs))
        if channel.code in ("shopify", "amazon"):
            for n, (bundle_sku, _, _) in enumerate(catalog.bundles):
                if channel.code == "shopify" or n % 2 == 0:
                    rows.append((_listing_id(channel, len(rows), bundle_sku, 1), bundle_sku,
                                 bundle_sku, 1))  # fmt: skip
        catalog.listings[channel.code] = rows


def draw_catalog(rng: Rng, items: int) -> Catalog:
    """The whole catalog for `items` items (about 3% as many bundles on top).

    Demand rates are scaled so that the brand sells about 0.16 units per item a day.
    """
    catalog = Catalog()
    _items(catalog, rng, items)
    total = sum(catalog.rates)
    catalog.rates = [r * 0.16 * items / total for r in catalog.rates]
    _bundles(catalog, rng, max(1, round(items * 0.03)))
    _listings(catalog, rng)
    return catalog


__all__ = ["SUPPLIERS", "Catalog", "draw_catalog"]
