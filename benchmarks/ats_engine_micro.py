"""How fast is the pure ATS engine on a mid-size catalog?

Builds 100,000 SKUs (5% bundles, some nested) listed on 8 channels (5% of listings are
multipacks) over 5 locations, with mixed rules: channel buffers, a percent share, listing
caps, SKU- and channel-level protections with overlapping eligibility, and an active event.
Measures rule resolution, plan building, a full numbers-only recompute, the explained path
on a sample, and the incremental recompute of the listings of one item. The reference is
the trivial work of summing each listing's pool in a plain loop, measured in the same run.

Usage: python benchmarks/ats_engine_micro.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from stockpool.domain.allocation import (
    Bundle,
    Channel,
    Listing,
    compute_ats_values,
    plan_allocation,
)
from stockpool.domain.explanation import compute_ats
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.rules import EventProfile, Rule, RuleBook, RuleLevel

LOCATIONS = [LocationCode(code) for code in ("WH1", "WH2", "3PL", "STORE", "FBA")]
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def build_channels() -> list[Channel]:
    own = frozenset(LOCATIONS[:3])
    spec = [
        ("shopify", 2, own),
        ("amazon", 2, frozenset({*LOCATIONS[:2], LOCATIONS[4]})),
        ("walmart", 3, own),
        ("ebay", 4, frozenset(LOCATIONS[:2])),
        ("woo", 4, own),
        ("tiktok", 5, frozenset(LOCATIONS[1:3])),
        ("pos", 1, frozenset({LOCATIONS[3], LOCATIONS[0]})),
        ("wholesale", 6, frozenset({LOCATIONS[0]})),
    ]
    return [Channel(ChannelCode(code), prio, locs) for code, prio, locs in spec]


def build_rules(skus: list[Sku], rng: random.Random) -> RuleBook:
    c = ChannelCode
    rules = [
        Rule(RuleLevel.GLOBAL, None, None, floor=1),
        Rule(RuleLevel.CHANNEL, None, c("amazon"), buffer=2),
        Rule(RuleLevel.CHANNEL, None, c("ebay"), buffer=1, maximum=50),
        Rule(RuleLevel.CHANNEL, None, c("tiktok"), percent=Decimal("40")),
        Rule(RuleLevel.CHANNEL, None, c("pos"), protect=3),
        Rule(RuleLevel.TAG, "fragile", c("wholesale"), protect=10),
    ]
    for sku in rng.sample(skus, len(skus) // 10):
        rules.append(Rule(RuleLevel.SKU, sku, c("amazon"), protect=rng.randint(1, 30)))
    for sku in rng.sample(skus, len(skus) // 20):
        rules.append(Rule(RuleLevel.LISTING, f"shopify-{sku}", c("shopify"), maximum=5))
    event = EventProfile(
        "BFCM",
        NOW - timedelta(days=1),
        NOW + timedelta(days=3),
        (Rule(RuleLevel.CHANNEL, None, c("walmart"), protect=5, event="BFCM"),),
    )
    return RuleBook(tuple(rules), (event,))


def build_catalog(size: int, rng: random.Random) -> tuple[list[Sku], dict[Sku, Bundle]]:
    skus = [Sku(f"SKU-{n:06d}") for n in range(size)]
    leaves = skus[: size - size // 20]
    bundles: dict[Sku, Bundle] = {}
    for sku in skus[len(leaves) :]:
        pool = leaves + list(bundles) if bundles and rng.random() < 0.2 else leaves
        parts = rng.sample(pool, rng.randint(2, 3))
        bundles[sku] = Bundle(sku, tuple((part, rng.randint(1, 3)) for part in parts))
    return skus, bundles


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10,000 SKUs instead of 100,000")
    args = parser.parse_args()
    size = 10_000 if args.quick else 100_000
    rng = random.Random(7)
    channels = build_channels()
    skus, bundles = build_catalog(size, rng)
    tags = {sku: ("fragile",) for sku in rng.sample(skus, size // 10)}
    listings = [
        Listing(ch.code, ListingId(f"{ch.code}-{sku}"), sku, 6 if rng.random() < 0.05 else 1)
        for sku in skus
        for ch in channels
    ]
    available = {
        sku: {loc: rng.choice((0, 0, 1, 2, 5, 10, 25, 60)) for loc in LOCATIONS}
        for sku in skus
        if sku not in bundles
    }
    book = build_rules(skus, rng)

    started = time.perf_counter()
    snapshot = book.at(NOW)
    channel_rules = {ch.code: snapshot.resolve(ch.code) for ch in channels}
    item_rules = {}
    for sku in available:
        for ch in channels:
            resolved = snapshot.resolve(ch.code, sku=sku, tags=tags.get(sku, ()))
            if resolved is not channel_rules[ch.code]:
                item_rules[(ch.code, sku)] = resolved
    listing_rules = {}
    for listing in listings:
        resolved = snapshot.resolve(
            listing.channel,
            sku=listing.sku,
            listing=listing.listing_id,
            tags=tags.get(listing.sku, ()),
        )
        if resolved is not channel_rules[listing.channel]:
            listing_rules[listing.key] = resolved
    resolve_s = time.perf_counter() - started

    started = time.perf_counter()
    plan = plan_allocation(
        channels,
        listings,
        bundles=bundles,
        item_rules=item_rules,
        listing_rules=listing_rules,
        channel_rules=channel_rules,
    )
    plan_s = time.perf_counter() - started

    full_runs = []
    for _ in range(1 if args.quick else 3):
        started = time.perf_counter()
        result = compute_ats_values(plan, available)
        full_runs.append(time.perf_counter() - started)
    full_s = statistics.median(full_runs)

    started = time.perf_counter()
    total = 0
    masks = {ch.code: ch.eligible_locations for ch in channels}
    for listing in listings:
        stock = available.get(listing.sku)
        if stock is not None:
            total += sum(stock[loc] for loc in masks[listing.channel]) // listing.multiplier
    raw_s = time.perf_counter() - started

    sample = rng.sample(list(available), 1000)
    incremental = []
    listings_touched = []
    for sku in sample:
        started = time.perf_counter()
        touched = compute_ats_values(plan, available, items=(sku,))
        incremental.append(time.perf_counter() - started)
        listings_touched.append(len(touched.values))

    explain_items = sample[:200]
    started = time.perf_counter()
    explained = compute_ats(plan, available, items=explain_items)
    explain_per_listing_us = (time.perf_counter() - started) / len(explained.listings) * 1e6
    mismatches = sum(
        1 for row in explained.listings if result.values[(row.channel, row.listing)] != row.ats
    )

    print(f"SKUs {size}, listings {len(listings)}, bundles {len(bundles)}")
    print(f"rule resolution      {resolve_s:8.3f} s")
    print(f"plan building        {plan_s:8.3f} s")
    print(
        f"full recompute       {full_s:8.3f} s  (runs: {', '.join(f'{r:.3f}' for r in full_runs)})"
    )
    print(f"raw pool-sum loop    {raw_s:8.3f} s  (reference)")
    print(f"incremental, median  {statistics.median(incremental) * 1e3:8.3f} ms per item")
    print(f"explained path       {explain_per_listing_us:8.1f} us per listing")
    print(f"conflicts {len(result.conflicts)}, explained/fast mismatches {mismatches}")
    print(
        json.dumps(
            {
                "benchmark": "ats_engine_micro",
                "skus": size,
                "listings": len(listings),
                "resolve_s": round(resolve_s, 3),
                "plan_s": round(plan_s, 3),
                "full_recompute_s": round(full_s, 3),
                "raw_loop_s": round(raw_s, 3),
                "ratio_to_raw": round(full_s / raw_s, 2),
                "incremental_median_ms": round(statistics.median(incremental) * 1e3, 4),
                "incremental_p99_ms": round(
                    sorted(incremental)[int(len(incremental) * 0.99)] * 1e3, 4
                ),
                "listings_per_incremental": statistics.median(listings_touched),
                "explained_us_per_listing": round(explain_per_listing_us, 1),
                "conflicts": len(result.conflicts),
                "mismatches": mismatches,
            }
        )
    )


if __name__ == "__main__":
    main()
