"""Demand seasons of the demo brand: weekly and yearly cycles, growth, promotions and peaks.

`seasons` returns, for every day of the history, a multiplier per channel (weekdays, the
year's cycle, growth, the brand's own promotions, Prime Day, Black Friday to Cyber Monday,
the slump after the Christmas shipping cut-off) and per product category (hoodies sell in
winter, shorts in summer). A day's expected demand of an item on a channel is its base rate
times both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from stockpool.demo.layout import CHANNELS

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

# Monday first. Shoppers buy on Sundays and Mondays; businesses on weekdays only.
_WEEKLY_CONSUMER = np.array([1.08, 1.0, 0.96, 0.95, 0.97, 0.94, 1.1])
_WEEKLY_BUSINESS = np.array([1.35, 1.3, 1.3, 1.3, 1.25, 0.1, 0.05])
_GROWTH_PER_YEAR = 1.3
# Category -> (amplitude, day of year of the peak).
_CATEGORY_SEASONS = {
    "HOOD": (0.45, 350), "SWT": (0.35, 350), "JKT": (0.6, 340), "BEAN": (0.7, 355),
    "SHRT": (0.6, 180), "BOTL": (0.3, 190), "TEE": (0.15, 170),
}  # fmt: skip


@dataclass(frozen=True)
class Seasons:
    """Multipliers per day of the history.

    Attributes:
        start: the first day.
        channel: [channel, day] multipliers, channels in `layout.CHANNELS` order.
        category: category code -> [day] multipliers.
        promotions: (first day, last day, channel code) of each promotion.
        black_fridays: the Black Fridays inside the history.
    """

    start: date
    channel: Floats
    category: dict[str, Floats]
    promotions: list[tuple[date, date, str]]
    black_fridays: list[date]


def black_friday(year: int) -> date:
    """The day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thursday + timedelta(days=1)


def prime_day(year: int) -> date:
    """The second Tuesday of July (Prime Day runs two days from it)."""
    first = date(year, 7, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def _cycle(days: Ints, amplitude: float, peak: int) -> Floats:
    return np.asarray(1.0 + amplitude * np.cos(2 * np.pi * (days - peak) / 365.25))


def _window(start: date, first: date, last: date, length: int) -> slice:
    a = max(0, (first - start).days)
    b = min(length, (last - start).days + 1)
    return slice(a, max(a, b))


def _peaks(base: Floats, start: date, length: int) -> list[date]:
    fridays = []
    for year in range(start.year, (start + timedelta(days=length)).year + 1):
        friday = black_friday(year)
        for c, spec in enumerate(CHANNELS):
            if spec.code == "wholesale":  # stores stock up for the holidays before
                base[c, _window(start, friday - timedelta(days=50), friday, length)] *= 1.5
                continue
            base[c, _window(start, friday - timedelta(days=7), friday, length)] *= 1.5
            base[c, _window(start, friday, friday, length)] *= 2.6
            base[c, _window(start, friday + timedelta(days=1), friday + timedelta(3), length)] *= 2
            base[c, _window(start, date(year, 12, 20), date(year, 12, 26), length)] *= 0.6
            if spec.kind == "amazon":
                prime = prime_day(year)
                base[c, _window(start, prime, prime + timedelta(days=1), length)] *= 2.5
        if start <= friday < start + timedelta(days=length):
            fridays.append(friday)
    return fridays


def _promotions(
    base: Floats, rng: np.random.Generator, start: date, length: int
) -> list[tuple[date, date, str]]:
    """The brand's own sales on Shopify: about six three-day promotions a year."""
    found = []
    shopify = [n for n, c in enumerate(CHANNELS) if c.code == "shopify"][0]
    day = int(rng.integers(10, 60))
    while day < length:
        first = start + timedelta(days=day)
        last = first + timedelta(days=2)
        base[shopify, _window(start, first, last, length)] *= 1.8
        found.append((first, last, "shopify"))
        day += int(rng.integers(45, 75))
    return found


def seasons(rng: np.random.Generator, start: date, length: int) -> Seasons:
    """The multipliers of every day from `start` for `length` days."""
    days = np.arange(length)
    weekday = (np.arange(length) + start.weekday()) % 7
    doy = np.array([(start + timedelta(days=int(d))).timetuple().tm_yday for d in days])
    growth = _GROWTH_PER_YEAR ** ((days - length) / 365.25)
    yearly = _cycle(doy, 0.2, 345)
    base = np.empty((len(CHANNELS), length))
    for c, spec in enumerate(CHANNELS):
        weekly = _WEEKLY_BUSINESS if spec.code == "wholesale" else _WEEKLY_CONSUMER
        base[c] = weekly[weekday] * yearly * growth
    fridays = _peaks(base, start, length)
    promotions = _promotions(base, rng, start, length)
    category = {
        code: _cycle(doy, amplitude, peak) for code, (amplitude, peak) in _CATEGORY_SEASONS.items()
    }
    return Seasons(start, base, category, promotions, fridays)
