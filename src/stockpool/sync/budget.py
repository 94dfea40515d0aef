"""A channel's rate budget, fed by what the channel reports after every call.

The channel's own report (`RateReport`: bucket size, what is left, restore rate) resets the
estimate; between reports it refills at the restore rate. A throttle answer pauses the
channel until its retry-after has passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stockpool.channels.protocol import RateReport


@dataclass
class RateBudget:
    """What a channel will let us spend now, in its own units (e.g. Shopify cost points)."""

    clock: Callable[[], float]
    maximum: float = 0.0
    available: float = 0.0
    restore_rate: float = 0.0
    at: float = 0.0
    paused_until: float = 0.0
    known: bool = False

    def observe(self, report: RateReport | None) -> None:
        """Take the channel's latest report as the truth."""
        if report is None:
            return
        self.maximum, self.available = report.maximum, report.available
        self.restore_rate, self.at, self.known = report.restore_rate, self.clock(), True

    def throttled(self, retry_after: float) -> None:
        """The channel refused a call: spend nothing until `retry_after` seconds from now."""
        self.paused_until = max(self.paused_until, self.clock() + retry_after)

    def _now_available(self, now: float) -> float:
        if not self.known:
            return float("inf")
        return min(self.maximum, self.available + (now - self.at) * self.restore_rate)

    def wait_for(self, cost: float) -> float:
        """Seconds to wait before a call of `cost` fits (0 if it fits now)."""
        now = self.clock()
        pause = max(0.0, self.paused_until - now)
        short = cost - self._now_available(now)
        if short <= 0 or self.restore_rate <= 0:
            return pause
        return max(pause, short / self.restore_rate)

    def spend(self, cost: float) -> None:
        """Count a call we are about to make until the channel reports again."""
        if self.known:
            now = self.clock()
            self.available, self.at = self._now_available(now) - cost, now
